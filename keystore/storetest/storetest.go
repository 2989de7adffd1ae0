// Package storetest is the conformance suite of [keystore.Store]: every
// implementation runs it (badgerstore against a real directory, memstore
// in memory, etcdstore against a real etcd cluster in e2e/fleet), so the key service can rely on the contract alone.
package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"kmsd/keystore"
)

// Opener opens the store under test. Calling it again after the store
// was closed must open the same data (a restart); an implementation that
// keeps nothing across a close returns nil from reopen in Run.
type Opener func(t *testing.T) keystore.Store

// Run runs the suite. open makes a fresh store; reopen, if not nil, opens
// the store open made last, once it is closed, to check that writes last.
func Run(t *testing.T, open, reopen Opener) {
	for name, test := range map[string]func(t *testing.T, open, reopen Opener){
		"GetMissing":         testGetMissing,
		"CopiesInAndOut":     testCopies,
		"ScanOrderAndPrefix": testScan,
		"ScanStopsOnError":   testScanError,
		"BatchIsAtomic":      testAtomic,
		"DeleteAndOverwrite": testDelete,
		"ConcurrentWrites":   testConcurrent,
		"Closed":             testClosed,
		"Records":            testRecords,
		"RootKeyCheck":       testRootKey,
		"Persists":           testPersists,
		"Revisions":          testRevisions,
		"Conditional":        testConditional,
		"ConditionalRace":    testConditionalRace,
		"Watch":              testWatch,
	} {
		t.Run(name, func(t *testing.T) { test(t, open, reopen) })
	}
}

func write(t *testing.T, s keystore.Store, kv ...string) {
	t.Helper()
	var b keystore.Batch
	for i := 0; i < len(kv); i += 2 {
		b.Put([]byte(kv[i]), []byte(kv[i+1]))
	}
	if err := s.Write(&b); err != nil {
		t.Fatal(err)
	}
}

func get(t *testing.T, s keystore.Store, k string) string {
	t.Helper()
	v, err := s.Get([]byte(k))
	if err != nil {
		t.Fatalf("get %q: %v", k, err)
	}
	return string(v)
}

func scan(t *testing.T, s keystore.Store, prefix string) []string {
	t.Helper()
	var out []string
	err := s.Scan([]byte(prefix), func(k, v []byte) error {
		out = append(out, string(k)+"="+string(v))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func testGetMissing(t *testing.T, open, _ Opener) {
	s := open(t)
	defer s.Close()
	if _, err := s.Get([]byte("nope")); !errors.Is(err, keystore.ErrNotFound) {
		t.Fatalf("missing key: %v", err)
	}
}

// testCopies: a value given to Write or returned by Get is the caller's;
// changing it changes nothing in the store.
func testCopies(t *testing.T, open, _ Opener) {
	s := open(t)
	defer s.Close()
	k, v := []byte("k"), []byte("value")
	var b keystore.Batch
	b.Put(k, v)
	if err := s.Write(&b); err != nil {
		t.Fatal(err)
	}
	v[0], k[0] = 'X', 'X'
	got, err := s.Get([]byte("k"))
	if err != nil || string(got) != "value" {
		t.Fatalf("after changing the written slices: %q %v", got, err)
	}
	got[0] = 'Y'
	if again := get(t, s, "k"); again != "value" {
		t.Fatalf("after changing a returned value: %q", again)
	}
}

func testScan(t *testing.T, open, _ Opener) {
	s := open(t)
	defer s.Close()
	write(t, s, "b2", "4", "a", "1", "b1", "3", "b", "2", "c", "5")
	if got := strings.Join(scan(t, s, "b"), " "); got != "b=2 b1=3 b2=4" {
		t.Fatalf("scan b: %s", got)
	}
	if got := strings.Join(scan(t, s, ""), " "); got != "a=1 b=2 b1=3 b2=4 c=5" {
		t.Fatalf("scan all: %s", got)
	}
	if got := scan(t, s, "z"); len(got) != 0 {
		t.Fatalf("scan z: %v", got)
	}
}

func testScanError(t *testing.T, open, _ Opener) {
	s := open(t)
	defer s.Close()
	write(t, s, "a", "1", "b", "2", "c", "3")
	stop := errors.New("stop")
	n := 0
	err := s.Scan(nil, func(k, v []byte) error {
		n++
		if string(k) == "b" {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 2 {
		t.Fatalf("scan stopped with %v after %d keys", err, n)
	}
}

// testAtomic: a batch spoiled by a record that cannot be encoded writes
// nothing, not even its changes before that record.
func testAtomic(t *testing.T, open, _ Opener) {
	s := open(t)
	defer s.Close()
	var b keystore.Batch
	b.Put([]byte("first"), []byte("1"))
	b.PutKey(&keystore.KeyRecord{KeyID: keystore.NewKeyID(), CreationDate: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)})
	if err := s.Write(&b); err == nil {
		t.Fatal("a batch with a record that cannot be encoded was written")
	}
	if _, err := s.Get([]byte("first")); !errors.Is(err, keystore.ErrNotFound) {
		t.Fatalf("part of a failed batch was written: %v", err)
	}
}

func testDelete(t *testing.T, open, _ Opener) {
	s := open(t)
	defer s.Close()
	write(t, s, "a", "1", "b", "2")
	var b keystore.Batch
	b.Delete([]byte("a"))
	b.Put([]byte("b"), []byte("3"))
	b.Delete([]byte("never"))
	if err := s.Write(&b); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(scan(t, s, ""), " "); got != "b=3" {
		t.Fatalf("after delete and overwrite: %s", got)
	}
}

func testConcurrent(t *testing.T, open, _ Opener) {
	s := open(t)
	defer s.Close()
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 20 {
				var b keystore.Batch
				b.Put(fmt.Appendf(nil, "w%d/%02d", w, i), []byte("v"))
				if err := s.Write(&b); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if n := len(scan(t, s, "w")); n != 160 {
		t.Fatalf("%d keys after 160 concurrent writes", n)
	}
}

func testClosed(t *testing.T, open, _ Opener) {
	s := open(t)
	write(t, s, "a", "1")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get([]byte("a")); err == nil {
		t.Error("Get after Close")
	}
	var b keystore.Batch
	b.Put([]byte("b"), []byte("2"))
	if err := s.Write(&b); err == nil {
		t.Error("Write after Close")
	}
}

func testRootKey(t *testing.T, open, reopen Opener) {
	s := open(t)
	rk, _ := keystore.NewRootKey(bytes.Repeat([]byte{9}, keystore.RootKeySize))
	other, _ := keystore.NewRootKey(bytes.Repeat([]byte{1}, keystore.RootKeySize))
	if ok, err := keystore.Initialized(s); ok || err != nil {
		t.Fatalf("a new store reads as initialized: %v", err)
	}
	if err := keystore.Init(s, rk); err != nil {
		t.Fatal(err)
	}
	if ok, err := keystore.Initialized(s); !ok || err != nil {
		t.Fatalf("not initialized after Init: %v", err)
	}
	if err := keystore.Init(s, rk); err != nil {
		t.Fatalf("the same root key again: %v", err)
	}
	if err := keystore.Init(s, other); !errors.Is(err, keystore.ErrWrongRootKey) {
		t.Fatalf("another root key: %v", err)
	}
	s.Close()
}

// testRecords: what the key service writes, Load gives back, and deletes
// leave nothing behind.
func testRecords(t *testing.T, open, _ Opener) {
	s := open(t)
	defer s.Close()
	id := keystore.NewKeyID()
	now := time.Now().UTC().Truncate(time.Second)
	gid := strings.Repeat("ab", 32)
	var b keystore.Batch
	b.PutKey(&keystore.KeyRecord{KeyID: id, CreationDate: now, KeyState: "Enabled", Versions: []keystore.Version{{Version: 1, Sealed: []byte{1}}}})
	b.PutAlias(&keystore.AliasRecord{AliasName: "alias/x", TargetKeyID: id})
	owner := uint32(65534)
	b.PutAlias(&keystore.AliasRecord{AliasName: "alias/x", Owner: &owner, TargetKeyID: id}) // the same name, one user's
	b.PutGrant(&keystore.GrantRecord{KeyID: id, GrantID: gid, GranteePrincipal: "uid:7", Operations: []string{"ReEncryptFrom"}})
	b.PutMeta("m1", []byte("meta"))
	if err := s.Write(&b); err != nil {
		t.Fatal(err)
	}
	var keys []*keystore.KeyRecord
	var aliases []*keystore.AliasRecord
	var grants []*keystore.GrantRecord
	err := keystore.Load(s, keystore.Loader{
		Key:   func(r *keystore.KeyRecord) error { keys = append(keys, r); return nil },
		Alias: func(r *keystore.AliasRecord) error { aliases = append(aliases, r); return nil },
		Grant: func(r *keystore.GrantRecord) error { grants = append(grants, r); return nil },
	})
	if err != nil || len(keys) != 1 || keys[0].KeyID != id || !keys[0].CreationDate.Equal(now) ||
		len(aliases) != 2 || aliases[0].TargetKeyID != id || len(grants) != 1 || grants[0].GranteePrincipal != "uid:7" {
		t.Fatalf("load: %v %+v %+v %+v", err, keys, aliases, grants)
	}
	if owned := aliases[0].Owner != nil || aliases[1].Owner != nil; !owned || (aliases[0].Owner != nil && aliases[1].Owner != nil) ||
		(aliases[0].Owner != nil && *aliases[0].Owner != owner) || (aliases[1].Owner != nil && *aliases[1].Owner != owner) {
		t.Fatalf("the shared and the user's alias of one name: %+v %+v", aliases[0], aliases[1])
	}
	if v, err := keystore.GetMeta(s, "m1"); err != nil || string(v) != "meta" {
		t.Fatalf("meta: %q %v", v, err)
	}
	if v, err := keystore.GetMeta(s, "m2"); err != nil || v != nil {
		t.Fatalf("missing meta: %q %v", v, err)
	}
	// A loader's error stops the load and is returned.
	refuse := errors.New("refused by the loader")
	ok := func(any) error { return nil }
	for name, l := range map[string]keystore.Loader{
		"key": {Key: func(*keystore.KeyRecord) error { return refuse }, Alias: func(r *keystore.AliasRecord) error { return ok(r) }, Grant: func(r *keystore.GrantRecord) error { return ok(r) }},
		"alias": {Key: func(r *keystore.KeyRecord) error { return ok(r) }, Alias: func(*keystore.AliasRecord) error { return refuse },
			Grant: func(r *keystore.GrantRecord) error { return ok(r) }},
		"grant": {Key: func(r *keystore.KeyRecord) error { return ok(r) }, Alias: func(r *keystore.AliasRecord) error { return ok(r) },
			Grant: func(*keystore.GrantRecord) error { return refuse }},
	} {
		if err := keystore.Load(s, l); !errors.Is(err, refuse) {
			t.Errorf("a %s loader's error was dropped: %v", name, err)
		}
	}
	var d keystore.Batch
	d.DeleteKey(id)
	d.DeleteAlias(nil, "alias/x")
	d.DeleteAlias(&owner, "alias/x")
	d.DeleteGrant(id, gid)
	if err := s.Write(&d); err != nil {
		t.Fatal(err)
	}
	n := 0
	count := func(any) error { n++; return nil }
	keystore.Load(s, keystore.Loader{Key: func(r *keystore.KeyRecord) error { return count(r) },
		Alias: func(r *keystore.AliasRecord) error { return count(r) }, Grant: func(r *keystore.GrantRecord) error { return count(r) }})
	if n != 0 {
		t.Fatalf("%d records after delete", n)
	}
	// A family this kmsd does not know stops the load.
	write(t, s, "zfuture", "x")
	if err := keystore.Load(s, keystore.Loader{}); err == nil || !strings.Contains(err.Error(), "unknown record family") {
		t.Fatalf("unknown family: %v", err)
	}
}

func testPersists(t *testing.T, open, reopen Opener) {
	if reopen == nil {
		t.Skip("this store keeps nothing across a close")
	}
	s := open(t)
	write(t, s, "a", "1", "b", "2")
	var b keystore.Batch
	b.Delete([]byte("a"))
	if err := s.Write(&b); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = reopen(t)
	defer s.Close()
	if got := strings.Join(scan(t, s, ""), " "); got != "b=2" {
		t.Fatalf("after reopening: %s", got)
	}
}
