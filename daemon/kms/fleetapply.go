package kms

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"

	"kmsd/keystore"
	"kmsd/wire/api"
)

// apply makes the tables reflect a batch another host wrote. A record
// the tables already hold at that revision or later (this host's own
// write, or one applied before) is skipped, unless force (a full
// reload). The caller holds writeMu.
func (s *Service) apply(ev keystore.Event, force bool) error {
	f := s.fleet
	for _, c := range ev.Changes {
		k := string(c.Key)
		if !force && ev.Revision <= f.rev(k) {
			continue
		}
		r, err := keystore.RecordOf(c)
		if err != nil {
			// A record this kmsd cannot read: serving without it would be
			// serving less, and guessing would be worse. It is skipped
			// loudly; a restart refuses the store.
			s.log.Error("a record written by another host does not decode; it is ignored until restart", "err", err, "revision", ev.Revision)
			continue
		}
		switch r.Family {
		case keystore.FamilyKey:
			s.applyKey(r.KeyID, r.Key)
		case keystore.FamilyAlias, keystore.FamilyOwned:
			s.applyAlias(r)
		case keystore.FamilyGrant:
			s.applyGrant(r)
		case keystore.FamilyMeta:
			s.applyMeta(r.MetaName, c.Value, c.Delete)
		}
		f.setRev(k, ev.Revision, c.Delete)
	}
	if ev.Revision > f.applied.Load() {
		f.applied.Store(ev.Revision)
	}
	return nil
}

// applyKey installs a key's new record, or drops a deleted key (its
// material wiped); a record that leaves a key not Enabled, or changes
// its sealed material (a root key rotation), wipes what was unsealed.
func (s *Service) applyKey(id keystore.KeyID, r *keystore.KeyRecord) {
	e := s.lookup(id)
	switch {
	case r == nil && e == nil:
	case r == nil:
		s.mu.Lock()
		delete(s.keys, id)
		if e.manager == ManagerCustomer {
			s.customers--
		}
		s.mu.Unlock()
		e.mu.Lock()
		e.wipe()
		e.deleted = true
		e.mu.Unlock()
	case e == nil:
		e = s.newEntry(r)
		e.auth.Store(newAuthState(s.keyPolicy(e), nil))
		s.mu.Lock()
		s.keys[id] = e
		if e.manager == ManagerCustomer {
			s.customers++
		}
		s.mu.Unlock()
	default:
		e.mu.Lock()
		old := e.rec
		if r.KeyState != api.KeyStateEnabled || len(r.Versions) < len(e.mats) || resealed(old, r) {
			e.wipe()
		}
		e.install(r)
		if r.Policy != old.Policy {
			e.auth.Store(newAuthState(s.keyPolicy(e), e.auth.Load().grants))
		}
		e.mu.Unlock()
	}
}

// resealed reports whether a version's sealed material changed.
func resealed(a, b *keystore.KeyRecord) bool {
	for i := range min(len(a.Versions), len(b.Versions)) {
		if string(a.Versions[i].Sealed) != string(b.Versions[i].Sealed) {
			return true
		}
	}
	return false
}

func (s *Service) applyAlias(r keystore.Record) {
	ref := aliasRef{shared: r.AliasOwner == nil, name: r.AliasName}
	if r.AliasOwner != nil {
		ref.owner = *r.AliasOwner
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.Alias == nil {
		delete(s.aliases, ref)
	} else {
		s.aliases[ref] = r.Alias
	}
}

func (s *Service) applyGrant(r keystore.Record) {
	e := s.lookup(r.KeyID)
	if e == nil {
		return // its key was deleted with it
	}
	if r.Grant == nil {
		s.setGrants(e, func(m map[string]*grant) { delete(m, r.GrantID) })
		return
	}
	g, err := s.loadGrant(r.Grant)
	if err != nil {
		s.log.Error("a grant written by another host does not load", "grant", r.GrantID, "err", err)
		return
	}
	s.setGrants(e, func(m map[string]*grant) { m[r.GrantID] = g })
}

// applyMeta acts on shared metadata another host changed.
func (s *Service) applyMeta(name string, v []byte, deleted bool) {
	switch name {
	case metaKeyStores:
		if err := s.reloadKeyStores(v); err != nil {
			s.log.Error("custom key stores changed on another host do not load", "err", err)
		}
	case keystore.MetaRootCheck:
		s.rootChanged(v, deleted)
	}
}

// reload reads every record again, at one revision, and makes the
// tables what it says: what a host does when its watch fell behind the
// store's compaction.
func (s *Service) reload() error {
	var puts []keystore.Change
	revs := map[string]int64{}
	rev, err := s.store.ScanRev(nil, func(k, v []byte, r int64) error {
		puts = append(puts, keystore.Change{Key: slices.Clone(k), Value: slices.Clone(v)})
		revs[string(k)] = r
		return nil
	})
	if err != nil {
		return err
	}
	// Keys before what names them (grants sort before keys).
	slices.SortStableFunc(puts, func(a, b keystore.Change) int {
		return cmp.Compare(b2i(a.Key[0] != keystore.FamilyKey), b2i(b.Key[0] != keystore.FamilyKey))
	})
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	ev := keystore.Event{Revision: rev, Changes: puts}
	s.fleet.revsMu.Lock()
	for k := range s.fleet.revs {
		if _, ok := revs[k]; !ok {
			ev.Changes = append(ev.Changes, keystore.Change{Key: []byte(k), Delete: true})
		}
	}
	s.fleet.revsMu.Unlock()
	s.apply(ev, true)
	s.fleet.revsMu.Lock()
	s.fleet.revs = revs
	s.fleet.revsMu.Unlock()
	s.fleet.applied.Store(rev)
	return nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// reloadKeyStores makes the custom key stores what another host wrote:
// new stores are added (and connected if they were left connected),
// removed ones closed, and each store's connection follows its Connect.
// A token is this host's own: a store another host connected to is
// connected here only if this host reaches the same token.
func (s *Service) reloadKeyStores(v []byte) error {
	var recs []keyStoreRecord
	if len(v) > 0 {
		if err := json.Unmarshal(v, &recs); err != nil {
			return fmt.Errorf("custom key stores: %w", err)
		}
	}
	s.stores.mu.Lock()
	defer s.stores.mu.Unlock()
	seen := map[string]bool{}
	for _, r := range recs {
		seen[r.ID] = true
		ks := s.stores.m[r.ID]
		if ks == nil {
			ks = &keyStore{state: api.ConnectionDisconnected}
			s.stores.m[r.ID] = ks
		}
		ks.rec = r
		switch {
		case r.Connect && ks.token == nil:
			s.connect(ks)
		case !r.Connect && ks.token != nil:
			ks.token.Close()
			ks.token, ks.state, ks.errCode = nil, api.ConnectionDisconnected, ""
		}
	}
	for id, ks := range s.stores.m {
		if !seen[id] {
			if ks.token != nil {
				ks.token.Close()
			}
			delete(s.stores.m, id)
		}
	}
	return nil
}

// rootChanged follows a root key rotation made on another host: the
// key material is sealed under a root key this host may not hold. What
// it has unsealed keeps serving; it cannot unseal more until it is
// restarted with the new root key (docs/fleet.md says how the fleet
// rotates it).
func (s *Service) rootChanged(v []byte, deleted bool) {
	if deleted {
		return
	}
	if err := keystore.CheckRootValue(s.root(), v); err != nil {
		s.log.Error("the fleet's root key was rotated on another host and this host does not hold the new one: "+
			"restart it with the new root key (docs/fleet.md)", "err", err)
		s.event("Fleet", "", "the fleet's root key changed; this host must be restarted with the new one")
	}
}
