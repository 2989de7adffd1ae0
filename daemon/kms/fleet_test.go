package kms

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"kmsd/daemon/policy"
	"kmsd/keystore"
	"kmsd/keystore/memstore"
	"kmsd/wire/api"
)

// hostStore is one host's view of a store the fleet shares: the real
// memstore, which a host closing leaves open for the others, and which
// the test can make unreachable from this host (as a partition does).
type hostStore struct {
	*memstore.Store
	down *atomic.Bool
}

var errDown = fmt.Errorf("%w: partitioned by the test", keystore.ErrUnavailable)

func (h hostStore) Close() error { return nil }

func (h hostStore) Write(b *keystore.Batch) error {
	if h.down.Load() {
		return errDown
	}
	return h.Store.Write(b)
}

func (h hostStore) ScanRev(p []byte, fn func(k, v []byte, rev int64) error) (int64, error) {
	if h.down.Load() {
		return 0, errDown
	}
	return h.Store.ScanRev(p, fn)
}

func (h hostStore) Watch(ctx context.Context, after int64, fn func(keystore.Event) error) error {
	if h.down.Load() {
		return errDown
	}
	return h.Store.Watch(ctx, after, func(ev keystore.Event) error {
		if h.down.Load() {
			return errDown
		}
		return fn(ev)
	})
}

// fleetOf opens n services on one store, as n hosts of a fleet.
func fleetOf(t *testing.T, n int, staleness time.Duration) ([]*Service, []*atomic.Bool) {
	t.Helper()
	st := memstore.New()
	t.Cleanup(func() { st.Close() })
	var hosts []*Service
	var downs []*atomic.Bool
	for i := range n {
		down := &atomic.Bool{}
		s, err := Open(Config{Store: hostStore{st, down}, RootKey: testRoot(t), TickInterval: -1,
			Fleet: &Fleet{Host: fmt.Sprintf("host%d", i), MaxStaleness: staleness, Heartbeat: 20 * time.Millisecond}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		hosts, downs = append(hosts, s), append(downs, down)
	}
	return hosts, downs
}

func eventually(t *testing.T, what string, f func() error) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		err := f()
		if err == nil {
			return time.Since(start)
		}
		if time.Since(start) > 2*time.Second {
			t.Fatalf("%s: not within 2s: %v", what, err)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// again runs a change on host s as the daemon does (handlers.go): once
// more after catching up, while it meets ErrStale.
func again(s *Service, change func() error) error {
	err := change()
	for try := 1; try < 4 && errors.Is(err, ErrStale); try++ {
		if err = s.CatchUp(ctx); err == nil {
			err = change()
		}
	}
	return err
}

// A change on one host is what every other host enforces, soon.
func TestFleetHostsFollowEachOther(t *testing.T) {
	h, _ := fleetOf(t, 3, time.Minute)
	a, b, c := h[0], h[1], h[2]
	out, err := a.CreateKey(ctx, &api.CreateKeyInput{Description: "shared"})
	if err != nil {
		t.Fatal(err)
	}
	id := out.KeyMetadata.KeyId
	if err := a.CreateAlias(ctx, &api.AliasInput{AliasName: "alias/shared", TargetKeyId: id}); err != nil {
		t.Fatal(err)
	}
	var blob []byte
	eventually(t, "b encrypts under a's key by its alias", func() error {
		out, err := b.Encrypt(ctx, &api.EncryptInput{KeyId: "alias/shared", Plaintext: []byte("x")})
		if err == nil {
			blob = out.CiphertextBlob
		}
		return err
	})
	eventually(t, "c decrypts b's blob", func() error {
		_, err := c.Decrypt(ctx, &api.DecryptInput{CiphertextBlob: blob})
		return err
	})
	if err := again(b, func() error { return b.DisableKey(ctx, &api.KeyIDInput{KeyId: id}) }); err != nil {
		t.Fatal(err)
	}
	d := eventually(t, "a refuses the key b disabled", func() error {
		_, err := a.Encrypt(ctx, &api.EncryptInput{KeyId: id, Plaintext: []byte("x")})
		if api.CodeOf(err) == api.CodeDisabled {
			return nil
		}
		return fmt.Errorf("Encrypt = %v", err)
	})
	t.Logf("disable on b enforced on a after %v", d)
	// A grant made on c lets its grantee in on a; its revocation on b
	// shuts it out on a again.
	if err := again(a, func() error { return a.EnableKey(ctx, &api.KeyIDInput{KeyId: id}) }); err != nil {
		t.Fatal(err)
	}
	eventually(t, "c sees the key enabled", func() error {
		_, err := c.Encrypt(ctx, &api.EncryptInput{KeyId: id, Plaintext: []byte("x")})
		return err
	})
	var g *api.CreateGrantOutput
	err = again(c, func() (err error) {
		g, err = c.CreateGrant(ctx, &api.CreateGrantInput{KeyId: id, GranteePrincipal: "uid:4242", Operations: []string{"Encrypt"}})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	other := as(&policy.Principal{UID: 4242, GID: 4242, Source: "test"})
	eventually(t, "a lets the grantee encrypt", func() error {
		_, err := a.Encrypt(other, &api.EncryptInput{KeyId: id, Plaintext: []byte("x")})
		return err
	})
	if err := again(b, func() error { return b.RevokeGrant(ctx, &api.RevokeGrantInput{KeyId: id, GrantId: g.GrantId}) }); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a shuts the grantee out", func() error {
		_, err := a.Encrypt(other, &api.EncryptInput{KeyId: id, Plaintext: []byte("x")})
		if c := api.CodeOf(err); c == api.CodeAccessDenied || c == api.CodeNotFound { // a key one may not use is one one cannot see
			return nil
		}
		return fmt.Errorf("Encrypt = %v", err)
	})
}

// Hosts racing for one alias: one wins; the other meets ErrStale and,
// caught up, AlreadyExistsException. Never both.
func TestFleetAliasRace(t *testing.T) {
	h, _ := fleetOf(t, 2, time.Minute)
	a, b := h[0], h[1]
	k1, _ := a.CreateKey(ctx, &api.CreateKeyInput{})
	k2, _ := a.CreateKey(ctx, &api.CreateKeyInput{})
	eventually(t, "b sees both keys", func() error {
		_, err := b.DescribeKey(ctx, &api.DescribeKeyInput{KeyId: k2.KeyMetadata.KeyId})
		return err
	})
	var stale atomic.Int32
	for i := range 50 {
		name := fmt.Sprintf("alias/race-%d", i)
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for j, s := range []*Service{a, b} {
			target := []string{k1.KeyMetadata.KeyId, k2.KeyMetadata.KeyId}[j]
			wg.Add(1)
			go func() {
				defer wg.Done()
				in := &api.AliasInput{AliasName: name, TargetKeyId: target}
				err := s.CreateAlias(ctx, in)
				for errors.Is(err, ErrStale) {
					stale.Add(1)
					if err = s.CatchUp(ctx); err == nil {
						err = s.CreateAlias(ctx, in)
					}
				}
				errs[j] = err
			}()
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			switch {
			case err == nil:
				won++
			case api.CodeOf(err) != api.CodeAlreadyExists:
				t.Fatalf("%s: %v", name, err)
			}
		}
		if won != 1 {
			t.Fatalf("%s: %d hosts created it (%v)", name, won, errs)
		}
	}
	t.Logf("%d of 100 creations met another host's first and ran again", stale.Load())
}

// A host cut off from the store refuses changes at once, serves crypto
// for keys that were Enabled until its copy is older than the bound,
// then refuses crypto too, saying why; back in touch, it catches up.
func TestFleetPartition(t *testing.T) {
	h, downs := fleetOf(t, 2, 300*time.Millisecond)
	a, b := h[0], h[1]
	k, _ := a.CreateKey(ctx, &api.CreateKeyInput{})
	id := k.KeyMetadata.KeyId
	eventually(t, "b sees the key", func() error {
		_, err := b.Encrypt(ctx, &api.EncryptInput{KeyId: id, Plaintext: []byte("x")})
		return err
	})
	downs[1].Store(true)
	eventually(t, "b refuses changes", func() error {
		err := b.UpdateKeyDescription(ctx, &api.UpdateKeyDescriptionInput{KeyId: id, Description: "cut off"})
		if api.CodeOf(err) == api.CodeDependencyTimeout {
			return nil
		}
		return fmt.Errorf("UpdateKeyDescription = %v", err)
	})
	if _, err := b.Encrypt(ctx, &api.EncryptInput{KeyId: id, Plaintext: []byte("x")}); err != nil {
		t.Fatalf("within the staleness bound: %v", err)
	}
	if err := a.DisableKey(ctx, &api.KeyIDInput{KeyId: id}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "b refuses crypto past the bound", func() error {
		_, err := b.Encrypt(ctx, &api.EncryptInput{KeyId: id, Plaintext: []byte("x")})
		if api.CodeOf(err) == api.CodeDependencyTimeout {
			return nil
		}
		return fmt.Errorf("Encrypt = %v", err)
	})
	if st, _ := b.FleetStatus(); st.Staleness < 300*time.Millisecond || st.Error == "" {
		t.Fatalf("status while cut off: %+v", st)
	}
	downs[1].Store(false)
	eventually(t, "b caught up: the key is Disabled there", func() error {
		_, err := b.Encrypt(ctx, &api.EncryptInput{KeyId: id, Plaintext: []byte("x")})
		if api.CodeOf(err) == api.CodeDisabled {
			return nil
		}
		return fmt.Errorf("Encrypt = %v", err)
	})
	if st, _ := b.FleetStatus(); st.Staleness > time.Second || st.Error != "" {
		t.Fatalf("status after catching up: %+v", st)
	}
}

// Scheduled work runs only on the host that leads.
func TestFleetTickOnlyOnTheLeader(t *testing.T) {
	st := memstore.New()
	c := newClock()
	var leading atomic.Bool
	open := func(lead func() bool) *Service {
		s, err := Open(Config{Store: hostStore{st, &atomic.Bool{}}, RootKey: testRoot(t), TickInterval: -1, Now: c.Now,
			Fleet: &Fleet{Host: "h", Leading: lead, Heartbeat: 20 * time.Millisecond}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	a := open(leading.Load)
	k, _ := a.CreateKey(ctx, &api.CreateKeyInput{})
	if _, err := a.ScheduleKeyDeletion(ctx, &api.ScheduleKeyDeletionInput{KeyId: k.KeyMetadata.KeyId, PendingWindowInDays: api.Int32(7)}); err != nil {
		t.Fatal(err)
	}
	c.Advance(8 * 24 * time.Hour)
	if err := a.Tick(); err != nil {
		t.Fatal(err)
	}
	if _, err := a.DescribeKey(ctx, &api.DescribeKeyInput{KeyId: k.KeyMetadata.KeyId}); err != nil {
		t.Fatalf("a host that does not lead deleted the key: %v", err)
	}
	leading.Store(true)
	if err := a.Tick(); err != nil {
		t.Fatal(err)
	}
	if _, err := a.DescribeKey(ctx, &api.DescribeKeyInput{KeyId: k.KeyMetadata.KeyId}); api.CodeOf(err) != api.CodeNotFound {
		t.Fatalf("the leader did not delete the key: %v", err)
	}
}

// Quotas hold fleet-wide: with one key left under the quota, two hosts
// creating one each at once make one key between them.
func TestFleetQuota(t *testing.T) {
	for round := range 20 {
		st := memstore.New()
		var hosts []*Service
		for range 2 {
			s, err := Open(Config{Store: hostStore{st, &atomic.Bool{}}, RootKey: testRoot(t), TickInterval: -1, Quotas: Quotas{Keys: 3},
				Fleet: &Fleet{Host: "h", Heartbeat: 20 * time.Millisecond}})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			hosts = append(hosts, s)
		}
		for range 2 { // two of the three
			if _, err := hosts[0].CreateKey(ctx, &api.CreateKeyInput{}); err != nil {
				t.Fatal(err)
			}
		}
		if err := hosts[1].CatchUp(ctx); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for j, s := range hosts {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := s.CreateKey(ctx, &api.CreateKeyInput{})
				for try := 0; errors.Is(err, ErrStale) && try < 4; try++ {
					s.CatchUp(ctx)
					_, err = s.CreateKey(ctx, &api.CreateKeyInput{})
				}
				errs[j] = err
			}()
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			switch {
			case err == nil:
				won++
			case api.CodeOf(err) != api.CodeLimitExceeded:
				t.Fatalf("round %d: %v", round, err)
			}
		}
		if won != 1 {
			t.Fatalf("round %d: %d hosts created the last key the quota allows (%v)", round, won, errs)
		}
		st.Close()
	}
}

// A host whose watch fell behind the store's compaction reads every
// record again and carries on: what changed meanwhile, and what was
// deleted, is what it serves.
func TestFleetReloadAfterCompaction(t *testing.T) {
	h, downs := fleetOf(t, 2, time.Minute)
	a, b := h[0], h[1]
	k1, _ := a.CreateKey(ctx, &api.CreateKeyInput{})
	k2, _ := a.CreateKey(ctx, &api.CreateKeyInput{})
	if err := a.CreateAlias(ctx, &api.AliasInput{AliasName: "alias/gone", TargetKeyId: k2.KeyMetadata.KeyId}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "b sees both keys and the alias", func() error {
		_, err := b.Encrypt(ctx, &api.EncryptInput{KeyId: "alias/gone", Plaintext: []byte("x")})
		return err
	})
	downs[1].Store(true)
	for i := range 1100 { // more batches than the memory store keeps
		if err := a.UpdateKeyDescription(ctx, &api.UpdateKeyDescriptionInput{KeyId: k1.KeyMetadata.KeyId, Description: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.DisableKey(ctx, &api.KeyIDInput{KeyId: k1.KeyMetadata.KeyId}); err != nil {
		t.Fatal(err)
	}
	if err := a.DeleteAlias(ctx, &api.DeleteAliasInput{AliasName: "alias/gone"}); err != nil {
		t.Fatal(err)
	}
	downs[1].Store(false)
	eventually(t, "b reloaded: the key Disabled, the alias gone", func() error {
		if _, err := b.Encrypt(ctx, &api.EncryptInput{KeyId: k1.KeyMetadata.KeyId, Plaintext: []byte("x")}); api.CodeOf(err) != api.CodeDisabled {
			return fmt.Errorf("Encrypt under the disabled key: %v", err)
		}
		if _, err := b.Encrypt(ctx, &api.EncryptInput{KeyId: "alias/gone", Plaintext: []byte("x")}); api.CodeOf(err) != api.CodeNotFound {
			return fmt.Errorf("Encrypt by the deleted alias: %v", err)
		}
		return nil
	})
	d, err := b.DescribeKey(ctx, &api.DescribeKeyInput{KeyId: k1.KeyMetadata.KeyId})
	if err != nil || d.KeyMetadata.Description != "1099" {
		t.Fatalf("b's description after the reload: %v %v", d, err)
	}
	// And b changes records again from its reloaded copy, once its
	// heartbeat has found the store again.
	eventually(t, "b enables the key", func() error {
		return again(b, func() error { return b.EnableKey(ctx, &api.KeyIDInput{KeyId: k1.KeyMetadata.KeyId}) })
	})
}

// limitedStore takes at most max changes in one write, as etcd takes 128.
type limitedStore struct {
	*memstore.Store
	max int
}

func (l limitedStore) MaxBatch() (int, int64) { return l.max, 1 << 20 }

func (l limitedStore) Write(b *keystore.Batch) error {
	if b.Len() > l.max {
		return fmt.Errorf("a write of %d changes, over the store's %d", b.Len(), l.max)
	}
	return l.Store.Write(b)
}

// A key with more grants and aliases than one write of the store takes
// is still deleted at the end of its waiting period, with all of them.
func TestDeleteKeyWithMoreThanOneWrite(t *testing.T) {
	st := limitedStore{memstore.New(), 8}
	c := newClock()
	s, err := Open(Config{Store: st, RootKey: testRoot(t), TickInterval: -1, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	k, _ := s.CreateKey(ctx, &api.CreateKeyInput{})
	id := k.KeyMetadata.KeyId
	for i := range 20 {
		if _, err := s.CreateGrant(ctx, &api.CreateGrantInput{KeyId: id, GranteePrincipal: fmt.Sprintf("uid:%d", 5000+i), Operations: []string{"Encrypt"}}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 10 {
		if err := s.CreateAlias(ctx, &api.AliasInput{AliasName: fmt.Sprintf("alias/many-%d", i), TargetKeyId: id}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.ScheduleKeyDeletion(ctx, &api.ScheduleKeyDeletionInput{KeyId: id, PendingWindowInDays: api.Int32(7)}); err != nil {
		t.Fatal(err)
	}
	c.Advance(8 * 24 * time.Hour)
	if err := s.Tick(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DescribeKey(ctx, &api.DescribeKeyInput{KeyId: id}); api.CodeOf(err) != api.CodeNotFound {
		t.Fatalf("the key after its deletion: %v", err)
	}
	n := 0
	st.Scan(nil, func(k, _ []byte) error {
		if k[0] != 'm' {
			n++
		}
		return nil
	})
	if n != 0 {
		t.Fatalf("%d records left after the key's deletion", n)
	}
}

// TestFleetPutMetaFromWhatWasRead: a shared value written on the
// revision its writer read, not on the one this host holds now. Host 1
// reads the value; host 0 changes it and host 1's watch applies that;
// host 1's write of what it read before is then refused (ErrStale), and
// the value keeps host 0's change, as a read-modify-write of the AWS
// endpoint's access keys needs (two hosts adding one each: neither lost).
func TestFleetPutMetaFromWhatWasRead(t *testing.T) {
	hosts, _ := fleetOf(t, 2, time.Minute)
	a, b := hosts[0], hosts[1]
	if err := a.PutMeta("Test", "shared", []byte("v1"), a.MetaRevision("shared")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "b holds v1", func() error {
		if b.MetaRevision("shared") != a.MetaRevision("shared") {
			return errors.New("not yet")
		}
		return nil
	})
	read := b.MetaRevision("shared") // b reads v1
	if err := a.PutMeta("Test", "shared", []byte("v1+a"), a.MetaRevision("shared")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "b's watch applies a's change", func() error {
		if b.MetaRevision("shared") == read {
			return errors.New("not yet")
		}
		return nil
	})
	if err := b.PutMeta("Test", "shared", []byte("v1+b"), read); !errors.Is(err, ErrStale) {
		t.Fatalf("b's write of what it read before a's change: %v, want ErrStale", err)
	}
	if v, err := keystore.GetMeta(b.Store(), "shared"); err != nil || string(v) != "v1+a" {
		t.Fatalf("the shared value is %q, %v; want a's v1+a kept", v, err)
	}
	// Read again, b's write is taken.
	if err := b.PutMeta("Test", "shared", []byte("v1+a+b"), b.MetaRevision("shared")); err != nil {
		t.Fatalf("b's write of what it read last: %v", err)
	}
}
