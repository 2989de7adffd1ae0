package pipeline

import (
	"errors"
	"time"

	"kmsd/daemon/audit"
	"kmsd/daemon/kms"
	"kmsd/wire/api"
)

// Event begins ev as the record of a call of op, request rid, by c: the
// one place a call's record is begun, on every front end; Finish
// completes it.
func Event(ev *audit.Event, op, rid string, c *Caller) {
	p := c.P
	*ev = audit.Event{Type: audit.TypeCall, Name: op, RequestID: rid,
		Caller: audit.Caller{UID: p.UID, GID: p.GID, PID: p.PID, Exe: p.Exe, Unit: p.Unit, Source: p.Source, Principal: c.Principal}}
}

// Finish completes an event with what the service reported, the
// request's context, sizes and result. Only lengths of plaintext and
// ciphertext are recorded, never content.
func Finish(ev *audit.Event, op *api.OpSpec, rep *kms.Report, in, out api.Message, werr *api.Error) {
	ev.Time = time.Now()
	if rep != nil {
		report(ev, rep)
	}
	if werr != nil {
		ev.Error = werr.Code
	}
	switch v := in.(type) {
	case *api.EncryptInput:
		ev.Context = v.EncryptionContext
	case *api.DecryptInput:
		ev.Context = v.EncryptionContext
	case *api.ReEncryptInput:
		ev.Context, ev.DestContext = v.SourceEncryptionContext, v.DestinationEncryptionContext
	case *api.GenerateDataKeyInput:
		ev.Context = v.EncryptionContext
	}
	ev.InBytes = inBytes(in)
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

// inBytes is the payload of a request: the length of its plaintext or
// ciphertext, which is all a record keeps of it.
func inBytes(in api.Message) int {
	switch v := in.(type) {
	case *api.EncryptInput:
		return len(v.Plaintext)
	case *api.DecryptInput:
		return len(v.CiphertextBlob)
	case *api.ReEncryptInput:
		return len(v.CiphertextBlob)
	}
	return 0
}

// report puts into ev what the service reported it did.
func report(ev *audit.Event, rep *kms.Report) {
	ev.KeyID, ev.KeyVersion, ev.Alias, ev.GrantID = rep.KeyID, rep.KeyVersion, rep.Alias, rep.GrantID
	ev.SourceKey, ev.SourceKeyVersion = rep.SourceKeyID, rep.SourceKeyVersion
	ev.Context, ev.DestContext = rep.Context, rep.DestContext
}

// Record writes a group of events and returns once they are written; a
// failure means none of their requests may be answered with a result.
// The caller writes them itself when the trail is idle (AppendNow): it
// waits either way, and a handoff to the trail's goroutine and back
// costs a lone request more than the write.
func (p *Pipeline) Record(evs ...*audit.Event) *api.Error {
	p.observe(evs)
	if p.cfg.Audit == nil || len(evs) == 0 {
		return nil
	}
	if evs = p.failures.admit(evs, time.Now()); len(evs) == 0 {
		return nil // counted for the next summary
	}
	done := make(chan error, 1)
	p.cfg.Audit.AppendNow(evs, func(err error) { done <- err })
	if err := <-done; err != nil {
		return AuditDown()
	}
	return nil
}

// WireError is err as an answer: itself if it is one, else
// KMSInternalException.
func WireError(err error) *api.Error {
	var we *api.Error
	if errors.As(err, &we) {
		return we
	}
	return &api.Error{Code: api.CodeInternal, Message: "the request failed inside kmsd; the daemon log has the cause"}
}
