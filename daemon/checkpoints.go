package daemon

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"kmsd/daemon/audit"
	"kmsd/daemon/kms"
	"kmsd/keystore"
)

// serviceEvent is the record of something the service did by itself.
func serviceEvent(e kms.Event) *audit.Event {
	return &audit.Event{Time: e.Time, Type: audit.TypeService, Name: e.Name, KeyID: e.KeyID, Detail: e.Detail}
}

// localMeta is the metadata a backup leaves out: the audit trail's head,
// gaps and retirements belong with this state directory's trail, which a
// backup does not carry.
func localMeta(name string) bool {
	switch name {
	case metaAuditCheckpoint, metaAuditGaps, metaAuditRetired, metaAuditOrigin:
		return true
	}
	return false
}

// checkpointStore keeps the audit trail's latest checkpoint in kmsd's
// store, where whoever edits the trail's files cannot reach it: the
// service's local store (kms.Service.LocalStore), which on a fleet host
// is its own, not the fleet's.
type checkpointStore struct{ st keystore.Store }

// fleetHostOf is the name of this fleet host, "" outside a fleet.
func fleetHostOf(svc *kms.Service) string {
	f, _ := svc.FleetStatus()
	return f.Host
}

// checkpointsOf is the checkpoint store of svc's trail: this host's.
func checkpointsOf(svc *kms.Service) checkpointStore { return checkpointStore{st: svc.LocalStore()} }

const metaAuditCheckpoint = "audit-checkpoint"

func (c checkpointStore) LoadCheckpoint() (uint64, [32]byte, bool, error) {
	var h [32]byte
	v, err := keystore.GetMeta(c.st, metaAuditCheckpoint)
	if err != nil || v == nil {
		return 0, h, false, err
	}
	if len(v) < 40 {
		return 0, h, false, fmt.Errorf("audit checkpoint record is %d bytes", len(v))
	}
	copy(h[:], v[8:40])
	return binary.BigEndian.Uint64(v), h, true, nil
}

// SaveCheckpoint keeps seq (8 bytes, big-endian), the hash, and the
// Merkle tree's text after them.
func (c checkpointStore) SaveCheckpoint(seq uint64, h [32]byte, tree []byte) error {
	var b keystore.Batch
	v := append(binary.BigEndian.AppendUint64(nil, seq), h[:]...)
	b.PutMeta(metaAuditCheckpoint, append(v, tree...))
	return c.st.Write(&b)
}

func (c checkpointStore) CheckpointTree() ([]byte, error) {
	v, err := keystore.GetMeta(c.st, metaAuditCheckpoint)
	if err != nil || len(v) <= 40 {
		return nil, err // none, or saved before the tree was
	}
	return v[40:], nil
}

// metaAuditOrigin holds the trail's origin, the name its signed
// checkpoints carry: made once, from the host's name and a random id,
// and kept.
const metaAuditOrigin = "audit-origin"

// auditOrigin returns the trail's origin, making it on first use.
func (c checkpointStore) auditOrigin() (string, error) {
	v, err := keystore.GetMeta(c.st, metaAuditOrigin)
	if err != nil {
		return "", err
	}
	if v != nil {
		return string(v), nil
	}
	host, _ := os.Hostname()
	host = strings.Map(func(r rune) rune {
		if r == '.' || r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			return r
		}
		return '-'
	}, host)
	if host == "" {
		host = "localhost"
	}
	origin := host + "/kmsd-audit/" + rand.Text()[:16]
	var b keystore.Batch
	b.PutMeta(metaAuditOrigin, []byte(origin))
	return origin, c.st.Write(&b)
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
