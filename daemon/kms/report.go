package kms

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"kmsd/wire/api"
)

// Report is what the service did for one request, as it resolved it: the
// key it acted on, the alias the caller named, the grant that allowed it,
// the version of key material it used. A front end puts a Report in the
// request's context ([WithReport]) and makes its audit record from it;
// the service knows nothing of records.
type Report struct {
	KeyID            string // the key acted on (ReEncrypt: the destination)
	KeyVersion       uint32 // the version of KeyID's material used, if any
	SourceKeyID      string // ReEncrypt: the key the blob came from
	SourceKeyVersion uint32 // ReEncrypt: the version the blob was made with
	Alias            string // the alias the caller named, if any
	GrantID          string // the grant that allowed the request, if one did
	// Context is the request's encryption context (ReEncrypt: the
	// source's), DestContext ReEncrypt's destination context.
	Context, DestContext map[string]string
}

// reportKey is the context key of a request's Report.
type reportKey struct{}

// Reported makes call, a call of one of the service's methods with ctx,
// and returns what the service reported doing beside its result. (The
// service's layers note what they resolve in a value of ctx that only
// this package reads; nothing of it leaves but the returned Report.)
func Reported(ctx context.Context, call func(context.Context) (api.Message, error)) (api.Message, Report, error) {
	var r Report
	out, err := call(withReport(ctx, &r))
	return out, r, err
}

// withReport returns a context whose requests fill r.
func withReport(ctx context.Context, r *Report) context.Context {
	return context.WithValue(ctx, reportKey{}, r)
}

func reportOf(ctx context.Context) *Report {
	r, _ := ctx.Value(reportKey{}).(*Report)
	return r
}

// noteKey reports the key an action was decided on, and the grant that
// allowed it.
func noteKey(ctx context.Context, e *entry, action, grantID string) {
	r := reportOf(ctx)
	if r == nil {
		return
	}
	if action == "kms:ReEncryptFrom" {
		r.SourceKeyID = e.id.String()
	} else {
		r.KeyID = e.id.String()
	}
	if grantID != "" {
		r.GrantID = grantID
	}
}

// noteVersion reports the version of material an action used.
func noteVersion(ctx context.Context, action string, v uint32) {
	r := reportOf(ctx)
	switch {
	case r == nil:
	case action == "kms:ReEncryptFrom":
		r.SourceKeyVersion = v
	default:
		r.KeyVersion = v
	}
}

// noteAlias reports the alias a request named.
func (s *Service) noteAlias(ctx context.Context, keyID string) {
	if r := reportOf(ctx); r != nil {
		name := s.trimARN(keyID)
		if strings.HasPrefix(name, "alias/") && r.Alias == "" {
			r.Alias = name
		}
	}
}

// Event is something the service did by itself: a key rotated on
// schedule, a key deleted at the end of its waiting period.
type Event struct {
	Time   time.Time
	Name   string // RotateKey, DeleteKey
	KeyID  string
	Detail string
}

// OnEvent sets where the service's own events go (the daemon records
// them in its audit trail).
func (s *Service) OnEvent(f func(Event)) { s.events.Store(&f) }

// event reports something the service did by itself.
func (s *Service) event(name, keyID, detail string) {
	if f := s.events.Load(); f != nil {
		(*f)(Event{Time: s.now().UTC(), Name: name, KeyID: keyID, Detail: detail})
	}
}

// AuditKey returns the key that MACs the audit trail's checkpoints:
// derived from kmsd's own (daemon-owned) audit key, made on first use.
func (s *Service) AuditKey() ([]byte, error) { return s.DerivedKey("audit", "audit-ckpt-1") }

// DerivedKey returns a 32-byte key for label (12 bytes), derived from the
// material of kmsd's own key for purpose (made on first use). It is the
// same for as long as that key lives, across restarts and root-key
// rotations (which re-seal the material, not change it).
func (s *Service) DerivedKey(purpose, label string) ([]byte, error) {
	if len(label) != 12 {
		return nil, fmt.Errorf("a derivation label is 12 bytes, not %d", len(label))
	}
	id, err := s.DaemonKey(purpose)
	if err != nil {
		return nil, err
	}
	e := s.lookup(id)
	if e == nil {
		return nil, errors.New("the daemon key for " + purpose + " vanished")
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	m, err := e.material(s.root(), 1)
	if err != nil {
		return nil, err
	}
	k := m.Derive([12]byte([]byte(label)))
	return k[:], nil
}
