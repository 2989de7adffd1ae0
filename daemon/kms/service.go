package kms

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"kmsd/daemon/policy"
	"kmsd/keystore"
	"kmsd/keystore/keyspec"
	"kmsd/wire/api"
)

// Quotas bound what callers can create. Zero fields take the defaults.
type Quotas struct {
	Keys         int // customer keys, default 10,000
	Aliases      int // aliases, default 10,000
	GrantsPerKey int // grants on one key, default 10,000
}

// DefaultQuotas are AWS KMS's 2019 defaults.
var DefaultQuotas = Quotas{Keys: 10_000, Aliases: 10_000, GrantsPerKey: 10_000}

// Config configures Open.
type Config struct {
	// Store holds the records; the service owns it from Open on and
	// closes it with Close.
	Store keystore.Store
	// RootKey seals key material; keystore.Init has checked it against
	// the store.
	RootKey *keystore.RootKey
	// Suite seals new ciphertexts; 0 picks keystore.DefaultAlg.
	Suite keystore.Alg
	// Quotas; zero fields take DefaultQuotas.
	Quotas Quotas
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// TickNow, if set, is the clock scheduled work (Tick) compares its
	// dates with, instead of Now: the end-to-end tests move it days ahead
	// so that a deletion falls due at once.
	TickNow func() time.Time
	// TickInterval is how often the background loop runs Tick; 0 is one
	// minute, negative turns the loop off.
	TickInterval time.Duration
	// AdminGroup is named, with root and the creator, in the default
	// policy of every new key (a group name or a numeric gid).
	AdminGroup string
	// Resolver resolves user: and group: principals; nil uses the system's.
	Resolver policy.Resolver
	// Region and AccountID are the ARNs' (arn:aws:kms:REGION:ACCOUNT:...),
	// as tools built on the AWS SDKs expect them; "" takes DefaultRegion
	// and DefaultAccountID. ValidateARNParts checks them.
	Region, AccountID string

	// Fleet, if set, makes this service one host of a fleet sharing
	// Store with others (fleet.go).
	Fleet *Fleet
	// Local, if set, is where this host keeps what is its alone (the
	// audit trail's checkpoints): a fleet host's own store beside the
	// fleet's. The service owns it as it owns Store. Nil is Store.
	Local keystore.Store

	// Logger; nil discards.
	Logger *slog.Logger
}

// Service is the key service. Its methods are safe for concurrent use.
type Service struct {
	cfg       Config
	arnPrefix string    // arn:aws:kms:REGION:ACCOUNT:
	stores    keyStores // custom key stores (keystores.go)
	now       func() time.Time
	log       *slog.Logger
	store     keystore.Store
	rootKey   atomic.Pointer[keystore.RootKey] // replaced by RotateRoot
	suite     keystore.Alg
	resolver  policy.Resolver

	writeMu sync.Mutex // serializes every change to the store and the tables

	mu        sync.RWMutex // guards keys and aliases
	keys      map[keystore.KeyID]*entry
	customers int                                  // keys managed by their customers: what the key quota counts
	aliases   map[aliasRef]*keystore.AliasRecord   // by namespace and name (aliases.go)
	admins    atomic.Pointer[policy.HostPrincipal] // the admin group, if one is named

	policies policyCache // compiled policies shared among keys
	keygen   keygenGate  // RSA keys being made (keygen.go)
	rsaQuota *rsaQuota   // users' RSA private-key operations (rsaquota.go)

	fleet *follower // nil unless the store is shared with other hosts (fleet.go)

	stop   chan struct{}
	done   chan struct{}
	closed atomic.Bool
	events atomic.Pointer[func(Event)] // where the service's own events go
}

// entry is one key in memory. rec is replaced, never changed in place.
type entry struct {
	id      keystore.KeyID
	arn     string
	manager string // KeyManager; never changes
	// daemonPurpose names a daemon-owned key's use; never changes.
	daemonPurpose string

	mu      sync.RWMutex // guards the fields below; crypto holds it shared
	rec     *keystore.KeyRecord
	deleted bool
	mats    []atomic.Pointer[keystore.Material] // by version-1, unsealed on first use
	matIDs  []string                            // KeyMaterialId by version-1
	auth    atomic.Pointer[authState]           // replaced (under mu) when the policy or grants change
	// private is the material of a key of another spec than
	// SYMMETRIC_DEFAULT (its one version), unsealed on first use.
	private atomic.Pointer[keyspec.Private]
}

// LocalStore is where this host keeps what is its alone: Config.Local,
// or the store.
func (s *Service) LocalStore() keystore.Store {
	if s.cfg.Local != nil {
		return s.cfg.Local
	}
	return s.store
}

// Close stops the background loop, zeroes every unsealed key version and
// closes the store. Calls after Close fail.
func (s *Service) Close() error {
	if !s.closed.CompareAndSwap(false, true) {
		return nil
	}
	close(s.stop)
	<-s.done
	s.stopFleet()
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.mu.Lock()
	for _, e := range s.keys {
		e.mu.Lock()
		e.wipe()
		e.deleted = true
		e.mu.Unlock()
	}
	s.mu.Unlock()
	s.closeKeyStores()
	err := s.store.Close()
	if s.cfg.Local != nil {
		err = errors.Join(err, s.cfg.Local.Close())
	}
	return err
}

// Store is the store the service keeps its records in, for the daemon's
// own bookkeeping beside them (the audit trail's checkpoint).
func (s *Service) Store() keystore.Store { return s.store }

// Suite reports the AEAD that seals new ciphertexts.
func (s *Service) Suite() keystore.Alg { return s.suite }

// KeyCount reports how many keys exist, in any state and of any type.
func (s *Service) KeyCount() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.keys)
}

// VisibleKeyCount reports how many keys the caller in ctx may see.
func (s *Service) VisibleKeyCount(ctx context.Context) int {
	p := policy.From(ctx)
	if p == nil {
		return 0
	}
	s.mu.RLock()
	all := make([]*entry, 0, len(s.keys))
	for _, e := range s.keys {
		all = append(all, e)
	}
	s.mu.RUnlock()
	n := 0
	for _, e := range all {
		e.mu.RLock()
		if visibleTo(e, p) {
			n++
		}
		e.mu.RUnlock()
	}
	return n
}

// customerKeys counts the keys that count against the key quota.
func (s *Service) customerKeys() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.customers
}

func (s *Service) newEntry(r *keystore.KeyRecord) *entry {
	e := &entry{id: r.KeyID, arn: s.keyARN(r.KeyID), manager: r.KeyManager}
	if r.KeyManager == ManagerDaemon {
		e.daemonPurpose = r.Description
	}
	e.install(r)
	return e
}

// install makes r the entry's record, keeping unsealed versions that still
// exist. The caller holds e.mu exclusively (or owns e).
func (e *entry) install(r *keystore.KeyRecord) {
	if len(r.Versions) != len(e.mats) {
		mats := make([]atomic.Pointer[keystore.Material], len(r.Versions))
		for i := range min(len(mats), len(e.mats)) {
			mats[i].Store(e.mats[i].Load())
		}
		e.mats = mats
		ids := make([]string, len(r.Versions))
		copy(ids, e.matIDs)
		for i := len(e.matIDs); i < len(ids); i++ {
			ids[i] = keyMaterialID(r.KeyID, uint32(i+1))
		}
		e.matIDs = ids
	}
	e.rec = r
	if len(r.Versions) == 0 { // imported material deleted
		if k := e.private.Swap(nil); k != nil {
			k.Wipe()
		}
	}
}

// wipe zeroes every unsealed version. The caller holds e.mu exclusively, so
// no crypto call is using them.
func (e *entry) wipe() {
	for i := range e.mats {
		if m := e.mats[i].Swap(nil); m != nil {
			m.Wipe()
		}
	}
	if k := e.private.Swap(nil); k != nil {
		k.Wipe()
	}
}

// material returns version v unsealed, unsealing it on first use. The
// caller holds e.mu shared or exclusively.
func (e *entry) material(root *keystore.RootKey, v uint32) (*keystore.Material, error) {
	if v == 0 || int(v) > len(e.mats) {
		return nil, fmt.Errorf("key %s has no version %d", e.id, v)
	}
	p := &e.mats[v-1]
	if m := p.Load(); m != nil {
		return m, nil
	}
	m, err := root.Unseal(e.id, v, e.rec.Versions[v-1].Sealed)
	if err != nil {
		return nil, err
	}
	if !p.CompareAndSwap(nil, m) {
		m.Wipe()
		m = p.Load()
	}
	return m, nil
}

// keyMaterialID names a version without revealing anything about its
// material: SHA-256 of a label, the key id and the version, in hex (AWS's
// KeyMaterialId is 64 hex digits too).
func keyMaterialID(id keystore.KeyID, v uint32) string {
	h := sha256.New()
	h.Write([]byte("kmsd/v1/key-material-id"))
	h.Write(id[:])
	binary.Write(h, binary.BigEndian, v)
	return hex.EncodeToString(h.Sum(nil))
}

// write persists a batch, turning a store failure into KMSInternalException.
func (s *Service) write(op string, b *keystore.Batch) error {
	if s.fleet != nil {
		if err := s.guard(op, b); err != nil {
			return err
		}
	}
	err := s.store.Write(b)
	switch {
	case err == nil:
		if s.fleet != nil {
			s.committed(b)
		}
		return nil
	case errors.Is(err, keystore.ErrConflict):
		return &staleError{op: op}
	case errors.Is(err, keystore.ErrUnavailable):
		s.log.Warn("a change was refused: the fleet's store is unavailable", "op", op, "err", err)
		return errorf(api.CodeDependencyTimeout, "%s was refused: %v", op, err)
	case errors.Is(err, keystore.ErrNoSpace):
		s.log.Error("a change was refused: the state directory's file system is nearly full", "op", op, "err", err)
		return errorf(api.CodeInternal, "%s was refused: kmsd's state directory is full, and kmsd changes no key until there is room (every key still serves)", op)
	}
	return s.internal(op, err)
}

// checkOpen fails every call made after Close.
func (s *Service) checkOpen() error {
	if s.closed.Load() {
		return errorf(api.CodeInternal, "the key service is shutting down")
	}
	return nil
}

// Backup seals every record of the store, from one consistent view,
// under the root key (keystore.Backup); skip names metadata that stays
// with this state directory. extra goes into the backup's header.
func (s *Service) Backup(skip func(meta string) bool, extra map[string]string) ([]byte, keystore.BackupHeader, error) {
	if err := s.checkOpen(); err != nil {
		return nil, keystore.BackupHeader{}, err
	}
	return keystore.Backup(s.store, s.root(), skip, extra)
}

// root is the root key material is sealed under now.
func (s *Service) root() *keystore.RootKey { return s.rootKey.Load() }

// RotateRoot re-seals every key's material under to (keystore.RotateRoot:
// crash-safe, hook called after each step) and then seals under to from
// now on. Every other change waits meanwhile.
func (s *Service) RotateRoot(to *keystore.RootKey, hook func(step string)) (int, error) {
	if err := s.checkOpen(); err != nil {
		return 0, err
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	versions, err := keystore.RotateRoot(s.store, s.root(), to, hook)
	if err != nil {
		return 0, s.internal("RotateRootKey", err)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	for id, vs := range versions {
		e := s.keys[id]
		if e == nil {
			continue
		}
		e.mu.Lock()
		rec := *e.rec
		rec.Versions = vs
		e.rec = &rec
		e.mu.Unlock()
	}
	s.rootKey.Store(to)
	return len(versions), nil
}
