package daemon

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"kmsd/daemon/audit"
	"kmsd/daemon/kms"
	"kmsd/daemon/policy"
	"kmsd/keystore"
	"kmsd/wire/api"
)

// auditDown is the answer to requests that cannot be recorded.
func auditDown() *api.Error {
	return &api.Error{Code: api.CodeInternal, Message: "kmsd cannot write its audit trail (disk full or failing) and answers no request it cannot record; retry later"}
}

// newEvent starts the audit record of one request.
func (c *conn) newEvent(op string, id uint64) *audit.Event {
	ev := new(audit.Event)
	c.fillEvent(ev, op, id)
	return ev
}

// fillEvent is newEvent into an event the caller allocated.
func (c *conn) fillEvent(ev *audit.Event, op string, id uint64) {
	callEvent(ev, op, c.requestID(id), c.p, c.principal)
}

// callEvent begins ev as the record of a call of op, request rid, by p
// (principal is its name): the one place a call's record is begun, on
// every front end; finish completes it.
func callEvent(ev *audit.Event, op, rid string, p *policy.Principal, principal string) {
	*ev = audit.Event{Type: audit.TypeCall, Name: op, RequestID: rid, Caller: callerOf(p, principal)}
}

// requestID is the audit request id of request id on this connection.
func (c *conn) requestID(id uint64) string {
	b := make([]byte, 0, 24)
	b = strconv.AppendUint(b, c.id, 10)
	b = append(b, ':')
	b = strconv.AppendUint(b, id, 10)
	return string(b)
}

// callerOf is the audit record's caller for a principal, on any front end.
func callerOf(p *policy.Principal, principal string) audit.Caller {
	return audit.Caller{UID: p.UID, GID: p.GID, PID: p.PID, Exe: p.Exe, Unit: p.Unit, Source: p.Source, Principal: principal}
}

// finish completes an event with what the service reported, the
// request's context, sizes and result. Only lengths of plaintext and
// ciphertext are recorded, never content.
func finish(ev *audit.Event, op *api.OpSpec, rep *kms.Report, in, out api.Message, werr *api.Error) {
	ev.Time = time.Now()
	if rep != nil {
		report(ev, rep)
	}
	if werr != nil {
		ev.Error = werr.Code
	}
	switch v := in.(type) {
	case *api.EncryptInput:
		ev.Context, ev.InBytes = v.EncryptionContext, len(v.Plaintext)
	case *api.DecryptInput:
		ev.Context, ev.InBytes = v.EncryptionContext, len(v.CiphertextBlob)
	case *api.ReEncryptInput:
		ev.Context, ev.DestContext, ev.InBytes = v.SourceEncryptionContext, v.DestinationEncryptionContext, len(v.CiphertextBlob)
	case *api.GenerateDataKeyInput:
		ev.Context = v.EncryptionContext
	}
	if in != nil { // what was asked, whatever came of it, as CloudTrail records it
		params(ev, op, in, out)
	}
	switch v := out.(type) {
	case *api.EncryptOutput:
		ev.OutBytes = len(v.CiphertextBlob)
	case *api.DecryptOutput:
		ev.OutBytes = len(v.Plaintext)
	case *api.ReEncryptOutput:
		ev.OutBytes = len(v.CiphertextBlob)
	case *api.GenerateDataKeyOutput:
		ev.OutBytes = len(v.CiphertextBlob) + len(v.Plaintext)
	case *api.GenerateRandomOutput:
		ev.OutBytes = len(v.Plaintext)
	}
}

// report puts into ev what the service reported it did.
func report(ev *audit.Event, rep *kms.Report) {
	ev.KeyID, ev.KeyVersion, ev.Alias, ev.GrantID = rep.KeyID, rep.KeyVersion, rep.Alias, rep.GrantID
	ev.SourceKey, ev.SourceKeyVersion = rep.SourceKeyID, rep.SourceKeyVersion
	ev.Context, ev.DestContext = rep.Context, rep.DestContext
}

// ready reports whether requests may be worked on: the audit trail must
// be writable (or off).
func (s *Server) ready() *api.Error {
	if s.cfg.Audit == nil {
		return nil
	}
	if s.cfg.Audit.Ready() != nil {
		return auditDown()
	}
	return nil
}

// record writes a group of events and returns once they are written; a
// failure means none of their requests may be answered with a result.
// The caller writes them itself when the trail is idle (AppendNow): it
// waits either way, and a handoff to the trail's goroutine and back
// costs a lone request more than the write.
func (s *Server) record(evs ...*audit.Event) *api.Error {
	s.metrics.observe(evs)
	if s.cfg.Audit == nil || len(evs) == 0 {
		return nil
	}
	if evs = s.failures.admit(evs, time.Now()); len(evs) == 0 {
		return nil // counted for the next summary
	}
	done := make(chan error, 1)
	s.cfg.Audit.AppendNow(evs, func(err error) { done <- err })
	if err := <-done; err != nil {
		return auditDown()
	}
	return nil
}

// answerNow records and answers a request the connection itself handles
// (Hello, Status, errors before any work, throttling). Only the reader
// calls it, for the request it is on.
func (c *conn) answerNow(op string, id uint64, in, out api.Message, werr *api.Error) {
	ev := c.newEvent(op, id)
	finish(ev, api.Lookup(op), nil, in, out, werr)
	if aerr := c.s.record(ev); aerr != nil && werr == nil {
		out, werr = nil, aerr
	}
	c.respond(id, c.cost, out, werr)
}

// serviceEvent is the record of something the service did by itself.
func serviceEvent(e kms.Event) *audit.Event {
	return &audit.Event{Time: e.Time, Type: audit.TypeService, Name: e.Name, KeyID: e.KeyID, Detail: e.Detail}
}

// localMeta is the metadata a backup leaves out: the audit trail's head,
// gaps and retirements belong with this state directory's trail, which a
// backup does not carry.
func localMeta(name string) bool {
	switch name {
	case metaAuditCheckpoint, metaAuditGaps, metaAuditRetired:
		return true
	}
	return false
}

// checkpointStore keeps the audit trail's latest checkpoint in kmsd's
// store, where whoever edits the trail's files cannot reach it.
type checkpointStore struct{ st keystore.Store }

const metaAuditCheckpoint = "audit-checkpoint"

func (c checkpointStore) LoadCheckpoint() (uint64, [32]byte, bool, error) {
	var h [32]byte
	v, err := keystore.GetMeta(c.st, metaAuditCheckpoint)
	if err != nil || v == nil {
		return 0, h, false, err
	}
	if len(v) != 40 {
		return 0, h, false, fmt.Errorf("audit checkpoint record is %d bytes", len(v))
	}
	copy(h[:], v[8:])
	return binary.BigEndian.Uint64(v), h, true, nil
}

func (c checkpointStore) SaveCheckpoint(seq uint64, h [32]byte) error {
	var b keystore.Batch
	b.PutMeta(metaAuditCheckpoint, append(binary.BigEndian.AppendUint64(nil, seq), h[:]...))
	return c.st.Write(&b)
}

// metaAuditRetired holds where the files retired by the retention
// settings ended: seq (8 bytes, big-endian) and the hash of that record.
const metaAuditRetired = "audit-retired"

func (c checkpointStore) SaveRetired(seq uint64, h [32]byte) error {
	var b keystore.Batch
	b.PutMeta(metaAuditRetired, append(binary.BigEndian.AppendUint64(nil, seq), h[:]...))
	return c.st.Write(&b)
}

// Retired is what SaveRetired kept; ok is false if no file was retired.
func (c checkpointStore) Retired() (seq uint64, h [32]byte, ok bool, err error) {
	v, err := keystore.GetMeta(c.st, metaAuditRetired)
	if err != nil || v == nil {
		return 0, h, false, err
	}
	if len(v) != 40 {
		return 0, h, false, fmt.Errorf("audit retired record is %d bytes", len(v))
	}
	copy(h[:], v[8:])
	return binary.BigEndian.Uint64(v), h, true, nil
}

// metaAuditGaps holds the trail's known gaps: a JSON list of strings,
// the newest maxGaps.
const (
	metaAuditGaps = "audit-gaps"
	maxGaps       = 100
)

func (c checkpointStore) NoteGap(what string) error {
	gaps, err := c.Gaps()
	if err != nil {
		return err
	}
	gaps = append(gaps, time.Now().UTC().Format(time.RFC3339)+": "+what)
	if len(gaps) > maxGaps {
		gaps = gaps[len(gaps)-maxGaps:]
	}
	v, _ := json.Marshal(gaps)
	var b keystore.Batch
	b.PutMeta(metaAuditGaps, v)
	return c.st.Write(&b)
}

// Gaps are the gaps NoteGap kept.
func (c checkpointStore) Gaps() ([]string, error) {
	v, err := keystore.GetMeta(c.st, metaAuditGaps)
	if err != nil || v == nil {
		return nil, err
	}
	var gaps []string
	if err := json.Unmarshal(v, &gaps); err != nil {
		return nil, fmt.Errorf("audit gaps record: %w", err)
	}
	return gaps, nil
}
