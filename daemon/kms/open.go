package kms

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"kmsd/daemon/policy"
	"kmsd/keystore"
)

// Open loads every record of cfg.Store into memory, compiles every key's
// policy, and starts the background loop (deletions, rotations). The
// service owns the store from then on: Close closes it, and so does Open
// when it fails.
func Open(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.RootKey == nil {
		return nil, errors.New("kms: a store and a root key are required")
	}
	cfg = withDefaults(cfg)
	if err := ValidateARNParts(cfg.Region, cfg.AccountID); err != nil {
		return nil, err
	}
	s := &Service{
		arnPrefix: "arn:aws:kms:" + cfg.Region + ":" + cfg.AccountID + ":",
		cfg:       cfg, now: cfg.Now, log: cfg.Logger, suite: cfg.Suite, resolver: cfg.Resolver,
		store:    cfg.Store,
		keys:     map[keystore.KeyID]*entry{},
		rsaQuota: newRSAQuota(),
		aliases:  map[aliasRef]*keystore.AliasRecord{},
	}
	s.rootKey.Store(cfg.RootKey)
	if f := cfg.Fleet; f != nil {
		fc := *f
		if fc.MaxStaleness <= 0 {
			fc.MaxStaleness = DefaultMaxStaleness
		}
		if fc.Heartbeat <= 0 {
			fc.Heartbeat = 250 * time.Millisecond
		}
		s.fleet = &follower{cfg: fc, revs: map[string]int64{}}
	}
	if g := cfg.AdminGroup; g != "" {
		h, err := policy.ParsePrincipal(adminPrincipal(g), s.resolver)
		if err != nil {
			s.store.Close()
			return nil, fmt.Errorf("admin group %q: %w", g, err)
		}
		s.admins.Store(&h)
	}
	grants, rev, err := s.load()
	if err == nil {
		err = s.authorizeAll(grants)
	}
	if err != nil {
		s.store.Close()
		return nil, fmt.Errorf("load store: %w", err)
	}
	if err := s.loadKeyStores(); err != nil {
		s.store.Close()
		return nil, fmt.Errorf("load store: %w", err)
	}
	s.writeMu.Lock()
	err = s.expireImports(s.now().UTC()) // material whose ValidTo passed while kmsd was down
	s.writeMu.Unlock()
	if err != nil {
		s.store.Close()
		return nil, fmt.Errorf("expiring imported key material: %w", err)
	}
	s.log.Info("key service open", "keys", len(s.keys), "aliases", len(s.aliases), "suite", s.suite.String())
	s.stop, s.done = make(chan struct{}), make(chan struct{})
	if s.fleet != nil {
		s.startFleet(rev)
	}
	go s.loop()
	return s, nil
}

func withDefaults(cfg Config) Config {
	if cfg.Quotas.Keys == 0 {
		cfg.Quotas.Keys = DefaultQuotas.Keys
	}
	if cfg.Quotas.Aliases == 0 {
		cfg.Quotas.Aliases = DefaultQuotas.Aliases
	}
	if cfg.Quotas.GrantsPerKey == 0 {
		cfg.Quotas.GrantsPerKey = DefaultQuotas.GrantsPerKey
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Region == "" {
		cfg.Region = DefaultRegion
	}
	if cfg.AccountID == "" {
		cfg.AccountID = DefaultAccountID
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Suite == 0 {
		cfg.Suite = keystore.DefaultAlg()
	}
	if cfg.Resolver == nil {
		cfg.Resolver = policy.OSResolver{}
	}
	return cfg
}

// load reads the keys and aliases into the tables, and returns the
// grants by key; every alias must name a key that exists.
func (s *Service) load() (map[keystore.KeyID]map[string]*grant, int64, error) {
	grants := map[keystore.KeyID]map[string]*grant{}
	var revOf func([]byte, int64)
	if f := s.fleet; f != nil {
		revOf = func(k []byte, rev int64) { f.setRev(string(k), rev, false) }
	}
	rev, err := keystore.LoadRev(s.store, keystore.Loader{
		Rev: revOf,
		Key: func(r *keystore.KeyRecord) error {
			s.keys[r.KeyID] = s.newEntry(r)
			if r.KeyManager == ManagerCustomer {
				s.customers++
			}
			return nil
		},
		Alias: func(a *keystore.AliasRecord) error {
			s.aliases[refOf(a)] = a
			return nil
		},
		Grant: func(g *keystore.GrantRecord) error {
			lg, err := s.loadGrant(g)
			if err != nil {
				return err
			}
			if grants[g.KeyID] == nil {
				grants[g.KeyID] = map[string]*grant{}
			}
			grants[g.KeyID][g.GrantID] = lg
			return nil
		},
	})
	if err != nil {
		return nil, 0, err
	}
	for ref, a := range s.aliases {
		if s.keys[a.TargetKeyID] == nil {
			return nil, 0, fmt.Errorf("alias %s points at missing key %s", ref.name, a.TargetKeyID)
		}
	}
	return grants, rev, nil
}

// keyPolicy compiles e's policy (e.mu held, or e not yet shared). One
// that does not compile (a name in it no longer resolves: a user was
// deleted) leaves the key usable only by root until it is replaced.
func (s *Service) keyPolicy(e *entry) *policy.Policy {
	doc, pol, err := s.compilePolicy(e.rec)
	if err == nil && e.rec.Policy != "" {
		e.rec.Policy = doc // one copy of a text many keys share
	}
	if err != nil {
		s.log.Warn("key policy does not compile; only root may manage the key until it is replaced", "key", e.id.String(), "err", err)
		_, pol, _ = s.compile(policy.Default(0, ""))
	}
	return pol
}

// authorizeAll compiles every key's policy and gives each key its grants;
// a grant of a key that does not exist is an error.
func (s *Service) authorizeAll(grants map[keystore.KeyID]map[string]*grant) error {
	for id, e := range s.keys {
		e.auth.Store(newAuthState(s.keyPolicy(e), grants[id]))
		delete(grants, id)
	}
	if len(grants) > 0 {
		return fmt.Errorf("%d grants of missing keys", len(grants))
	}
	return nil
}
