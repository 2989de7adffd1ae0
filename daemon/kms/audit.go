package kms

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"kmsd/daemon/audit"
	"kmsd/keystore"
)

// eventKey is the context key of the audit event a request fills.
type eventKey struct{}

// WithEvent returns a context whose requests fill ev with what the service
// resolves: the key, the alias named, the grant that allowed it.
func WithEvent(ctx context.Context, ev *audit.Event) context.Context {
	return context.WithValue(ctx, eventKey{}, ev)
}

func eventOf(ctx context.Context) *audit.Event {
	ev, _ := ctx.Value(eventKey{}).(*audit.Event)
	return ev
}

// noteKey records in the request's audit event the key an action was
// decided on, and the grant that allowed it.
func noteKey(ctx context.Context, e *entry, action, grantID string) {
	ev := eventOf(ctx)
	if ev == nil {
		return
	}
	if action == "kms:ReEncryptFrom" {
		ev.SourceKey = e.id.String()
	} else {
		ev.KeyID = e.id.String()
	}
	if grantID != "" {
		ev.GrantID = grantID
	}
}

// noteAlias records the alias a request named.
func noteAlias(ctx context.Context, keyID string) {
	if ev := eventOf(ctx); ev != nil {
		name := strings.TrimPrefix(keyID, ARNPrefix)
		if strings.HasPrefix(name, "alias/") && ev.Alias == "" {
			ev.Alias = name
		}
	}
}

// serviceEvent records what kmsd did by itself (rotation, deletion).
func (s *Service) serviceEvent(name, keyID, detail string) {
	f := s.events.Load()
	if f == nil {
		return
	}
	(*f)(&audit.Event{Time: s.now().UTC(), Type: audit.TypeService, Name: name, KeyID: keyID, Detail: detail})
}

// AuditKey returns the key that MACs the audit trail's checkpoints:
// derived from kmsd's own (daemon-owned) audit key, made on first use.
func (s *Service) AuditKey() ([]byte, error) {
	id, err := s.DaemonKey("audit")
	if err != nil {
		return nil, err
	}
	e := s.lookup(id)
	if e == nil {
		return nil, errors.New("the daemon audit key vanished")
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	m, err := e.material(s.root, 1)
	if err != nil {
		return nil, err
	}
	k := m.Derive([12]byte([]byte("audit-ckpt-1")))
	return k[:], nil
}

// CheckpointStore keeps the audit trail's latest checkpoint in the store.
func (s *Service) CheckpointStore() audit.CheckpointStore { return checkpointStore{s.store} }

type checkpointStore struct{ st *keystore.Store }

const metaAuditCheckpoint = "audit-checkpoint"

func (c checkpointStore) LoadCheckpoint() (uint64, [32]byte, bool, error) {
	var h [32]byte
	v, err := c.st.GetMeta(metaAuditCheckpoint)
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
	return c.st.PutMeta(metaAuditCheckpoint, append(binary.BigEndian.AppendUint64(nil, seq), h[:]...))
}
