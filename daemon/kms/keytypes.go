package kms

import (
	"context"
	"crypto/sha256"
	"errors"
	"strings"
	"time"

	"kmsd/daemon/policy"
	"kmsd/keystore"
	"kmsd/wire/api"
)

// ManagedAliasPrefix names the keys kmsd keeps for systemd units: a
// process of unit U that uses alias/managed/U gets the unit's key, made on
// its first use.
const ManagedAliasPrefix = "alias/managed/"

// resolveUse is resolve for the operations that encrypt: in addition, a
// caller running in systemd unit U that names alias/managed/U before the
// key exists gets it made. Anyone else naming a missing managed alias gets
// NotFoundException, as for any missing alias.
func (s *Service) resolveUse(ctx context.Context, keyID string) (*entry, error) {
	s.noteAlias(ctx, keyID)
	e, err := s.resolve(ctx, keyID, true)
	if err == nil || api.CodeOf(err) != api.CodeNotFound {
		return e, err
	}
	unit, ok := strings.CutPrefix(s.trimARN(keyID), ManagedAliasPrefix)
	p := policy.From(ctx)
	if !ok || p == nil || p.Unit == "" || p.Unit != unit {
		return nil, err
	}
	return s.serviceKey(p, unit)
}

// serviceKey makes the service-managed key of a unit, with its alias. It
// rotates every year, as AWS managed keys do, and does not count against
// the key or alias quotas.
func (s *Service) serviceKey(p *policy.Principal, unit string) (*entry, error) {
	if err := s.checkOpen(); err != nil {
		return nil, err
	}
	alias := ManagedAliasPrefix + unit
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.mu.RLock()
	a := s.aliases[aliasRef{shared: true, name: alias}]
	s.mu.RUnlock()
	if a != nil { // made meanwhile by another request of the unit
		return s.resolveAlias(nil, alias)
	}
	doc := policy.ServiceManaged(unit)
	doc, pol, err := s.compile(doc)
	if err != nil {
		return nil, s.internal("CreateServiceKey", err)
	}
	now := s.now().UTC()
	next := now.Add(365 * 24 * time.Hour)
	r := &keystore.KeyRecord{
		KeyID: keystore.NewKeyID(), CreationDate: now, Description: "Key kmsd keeps for " + unit,
		KeyUsage: api.KeyUsageEncryptDecrypt, KeySpec: api.KeySpecSymmetric, Origin: api.OriginKMS,
		KeyManager: ManagerService, KeyState: api.KeyStateEnabled, Policy: doc, Unit: unit,
		Rotation: keystore.Rotation{Enabled: true, PeriodInDays: 365, NextRotationDate: &next},
	}
	e, err := s.insertKey(r, pol, &keystore.AliasRecord{AliasName: alias, TargetKeyID: r.KeyID, CreationDate: now, LastUpdatedDate: now})
	if err != nil {
		return nil, err
	}
	s.log.Info("service-managed key created", "key", r.KeyID.String(), "unit", unit, "pid", p.PID)
	return e, nil
}

// DaemonKey returns the id of kmsd's own key for a purpose (such as the
// audit trail's checkpoints), making it on first use. Daemon-owned keys are
// invisible and unusable through every operation.
//
// Its id follows from the purpose, so that hosts of a fleet starting at
// once make one key between them: the second's write conflicts with the
// first's, and it takes the first's once it has caught up.
func (s *Service) DaemonKey(purpose string) (keystore.KeyID, error) {
	for try := 1; ; try++ {
		id, err := s.daemonKey(purpose)
		if !errors.Is(err, ErrStale) || try == maxCatchUps {
			return id, err
		}
		if err := s.CatchUp(context.Background()); err != nil {
			return id, err
		}
	}
}

// maxCatchUps is how many times the service's own changes run when they
// conflict with another host's.
const maxCatchUps = 4

func (s *Service) daemonKey(purpose string) (keystore.KeyID, error) {
	if err := s.checkOpen(); err != nil {
		return keystore.KeyID{}, err
	}
	desc := "kmsd:" + purpose
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.mu.RLock()
	for id, e := range s.keys {
		if e.manager == ManagerDaemon && e.daemonPurpose == desc {
			s.mu.RUnlock()
			return id, nil
		}
	}
	s.mu.RUnlock()
	r := &keystore.KeyRecord{
		KeyID: daemonKeyID(desc), CreationDate: s.now().UTC(), Description: desc,
		KeyUsage: api.KeyUsageEncryptDecrypt, KeySpec: api.KeySpecSymmetric, Origin: api.OriginKMS,
		KeyManager: ManagerDaemon, KeyState: api.KeyStateEnabled,
	}
	_, pol, _ := s.compile(policy.Default(0, "")) // never consulted: daemon keys are refused first
	if _, err := s.insertKey(r, pol, nil); err != nil {
		return keystore.KeyID{}, err
	}
	return r.KeyID, nil
}

// insertKey gives r its first version of material (unless it is to be
// imported: origin EXTERNAL), stores it (with an alias, if any) and adds
// it to the tables with its compiled policy. The caller holds writeMu.
func (s *Service) insertKey(r *keystore.KeyRecord, pol *policy.Policy, alias *keystore.AliasRecord, fences ...string) (*entry, error) {
	var m *keystore.Material
	switch {
	case r.Origin == api.OriginExternal:
		r.KeyState = api.KeyStatePendingImport
	case r.Origin == api.OriginHSM: // the material is the token's (generateInStore)
	case !isSymmetric(r): // made and sealed by CreateKey, before writeMu (an RSA key takes long)
	default:
		var v *keystore.Version
		var err error
		if m, v, err = s.newVersion(r.KeyID, 1, r.CreationDate, ""); err != nil {
			return nil, s.internal(api.OpCreateKey, err)
		}
		r.Versions = []keystore.Version{*v}
	}
	var b keystore.Batch
	b.PutKey(r)
	if alias != nil {
		b.PutAlias(alias)
	}
	for _, f := range fences {
		s.fence(&b, f)
	}
	if err := s.write(api.OpCreateKey, &b); err != nil {
		if m != nil {
			m.Wipe()
		}
		return nil, err
	}
	e := s.newEntry(r)
	e.auth.Store(newAuthState(pol, nil))
	if m != nil {
		e.mats[0].Store(m)
	}
	s.mu.Lock()
	s.keys[r.KeyID] = e
	if r.KeyManager == ManagerCustomer {
		s.customers++
	}
	if alias != nil {
		s.aliases[refOf(alias)] = alias
	}
	s.mu.Unlock()
	return e, nil
}

// KeyForUsage authorizes GetKeyLastUsage on a key (id or ARN, not an
// alias, as in AWS) and returns its id and creation date.
func (s *Service) KeyForUsage(ctx context.Context, keyID string) (string, time.Time, error) {
	var id string
	var created time.Time
	err := s.view(ctx, api.OpGetKeyLastUsage, keyID, false, nil, func(e *entry) error {
		id, created = e.id.String(), e.rec.CreationDate
		return nil
	})
	return id, created, err
}

func adminPrincipal(g string) string {
	if strings.Trim(g, "0123456789") == "" {
		return "gid:" + g
	}
	return "group:" + g
}

// daemonKeyID is the id of the daemon key described desc: SHA-256 of a
// label and desc, shaped as a version 4 UUID as every key id is.
func daemonKeyID(desc string) keystore.KeyID {
	h := sha256.Sum256([]byte("kmsd/v1/daemon-key-id/" + desc))
	var id keystore.KeyID
	copy(id[:], h[:])
	id[6] = id[6]&0x0f | 0x40
	id[8] = id[8]&0x3f | 0x80
	return id
}
