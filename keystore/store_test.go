package keystore

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func newRootKey(t *testing.T) *RootKey {
	t.Helper()
	rk, err := NewRootKey(bytes.Repeat([]byte{9}, RootKeySize))
	if err != nil {
		t.Fatal(err)
	}
	return rk
}

func TestRootKeyFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "root-key")
	rk, created, err := LoadOrCreateRootKey(path)
	if err != nil || !created || rk == nil {
		t.Fatalf("create: %v %v", created, err)
	}
	st, _ := os.Stat(path)
	if st.Mode().Perm() != 0o600 || st.Size() != RootKeySize {
		t.Fatalf("root key file mode %v size %d", st.Mode(), st.Size())
	}
	if _, created, err := LoadOrCreateRootKey(path); err != nil || created {
		t.Fatalf("reload: %v %v", created, err)
	}
	os.Chmod(path, 0o640)
	if _, err := LoadRootKey(path); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("group-readable root key accepted: %v", err)
	}
	short := filepath.Join(dir, "short")
	os.WriteFile(short, make([]byte, 31), 0o600)
	long := filepath.Join(dir, "long")
	os.WriteFile(long, make([]byte, 33), 0o600)
	for _, p := range []string{short, long, filepath.Join(dir, "missing")} {
		if _, err := LoadRootKey(p); err == nil {
			t.Errorf("%s accepted", p)
		}
	}
}

func TestSealUnseal(t *testing.T) {
	rk := newRootKey(t)
	id := NewKeyID()
	key := bytes.Repeat([]byte{5}, MaterialSize)
	sealed, err := rk.Seal(id, 2, key)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, key[:8]) {
		t.Fatal("sealed record holds the material")
	}
	if _, err := rk.Unseal(id, 2, sealed); err != nil {
		t.Fatal(err)
	}
	other, _ := NewRootKey(bytes.Repeat([]byte{8}, RootKeySize))
	for name, f := range map[string]func() error{
		"other root key": func() error { _, err := other.Unseal(id, 2, sealed); return err },
		"other version":  func() error { _, err := rk.Unseal(id, 3, sealed); return err },
		"other key":      func() error { _, err := rk.Unseal(NewKeyID(), 2, sealed); return err },
	} {
		if err := f(); !errors.Is(err, ErrWrongRootKey) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestStoreReopenAndLock(t *testing.T) {
	dir := t.TempDir()
	rk := newRootKey(t)
	s, err := OpenStore(StoreOptions{Dir: dir}, rk)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := OpenStore(StoreOptions{Dir: dir}, rk); !errors.Is(err, ErrLocked) {
		t.Fatalf("second open: %v", err)
	}
	id := NewKeyID()
	now := time.Now().UTC().Truncate(time.Second)
	var b Batch
	b.PutKey(&KeyRecord{KeyID: id, CreationDate: now, KeyState: "Enabled", Versions: []Version{{Version: 1, Sealed: []byte{1}}}})
	b.PutAlias(&AliasRecord{AliasName: "alias/x", TargetKeyID: id})
	gid := strings.Repeat("ab", 32)
	b.PutGrant(&GrantRecord{KeyID: id, GrantID: gid, GranteePrincipal: "uid:7", Operations: []string{"Encrypt"}})
	if err := s.Write(&b); err != nil {
		t.Fatal(err)
	}
	s.Close()

	other, _ := NewRootKey(bytes.Repeat([]byte{1}, RootKeySize))
	if _, err := OpenStore(StoreOptions{Dir: dir}, other); !errors.Is(err, ErrWrongRootKey) {
		t.Fatalf("open with another root key: %v", err)
	}
	s, err = OpenStore(StoreOptions{Dir: dir}, rk)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var keys []*KeyRecord
	var aliases []*AliasRecord
	var grants []*GrantRecord
	err = s.Load(Loader{
		Key:   func(r *KeyRecord) error { keys = append(keys, r); return nil },
		Alias: func(r *AliasRecord) error { aliases = append(aliases, r); return nil },
		Grant: func(r *GrantRecord) error { grants = append(grants, r); return nil },
	})
	if err != nil || len(keys) != 1 || len(aliases) != 1 || keys[0].KeyID != id || !keys[0].CreationDate.Equal(now) || aliases[0].TargetKeyID != id ||
		len(grants) != 1 || grants[0].GranteePrincipal != "uid:7" {
		t.Fatalf("reload: %v %+v %+v %+v", err, keys, aliases, grants)
	}
	// A record the loader refuses stops the load with the loader's error.
	refuse := errors.New("refused by the loader")
	for name, l := range map[string]Loader{
		"key":   {Key: func(*KeyRecord) error { return refuse }, Alias: func(*AliasRecord) error { return nil }, Grant: func(*GrantRecord) error { return nil }},
		"alias": {Key: func(*KeyRecord) error { return nil }, Alias: func(*AliasRecord) error { return refuse }, Grant: func(*GrantRecord) error { return nil }},
		"grant": {Key: func(*KeyRecord) error { return nil }, Alias: func(*AliasRecord) error { return nil }, Grant: func(*GrantRecord) error { return refuse }},
	} {
		if err := s.Load(l); !errors.Is(err, refuse) {
			t.Errorf("a %s loader's error was dropped: %v", name, err)
		}
	}
	var d Batch
	d.DeleteKey(id)
	d.DeleteAlias("alias/x")
	d.DeleteGrant(id, gid)
	if err := s.Write(&d); err != nil {
		t.Fatal(err)
	}
	n := 0
	count := func(any) error { n++; return nil }
	s.Load(Loader{Key: func(r *KeyRecord) error { return count(r) }, Alias: func(r *AliasRecord) error { return count(r) },
		Grant: func(r *GrantRecord) error { return count(r) }})
	if n != 0 {
		t.Fatalf("%d records after delete", n)
	}
}

func TestDecodeRecordRejects(t *testing.T) {
	for name, in := range map[string]string{
		"newer version": `{"v":3,"KeyId":"1234abcd-12ab-44cd-96ef-1234567890ab"}`,
		"no version":    `{"KeyId":"1234abcd-12ab-44cd-96ef-1234567890ab"}`,
		"unknown field": `{"v":1,"KeyId":"1234abcd-12ab-44cd-96ef-1234567890ab","Evil":1}`,
		"bad id":        `{"v":1,"KeyId":"nope"}`,
		"trailing":      `{"v":1,"KeyId":"1234abcd-12ab-44cd-96ef-1234567890ab"} {}`,
		"version gap":   `{"v":1,"KeyId":"1234abcd-12ab-44cd-96ef-1234567890ab","Versions":[{"Version":2}]}`,
		"not json":      "\x00\x01",
		"wrong type":    `{"v":"1"}`,
	} {
		if _, err := DecodeKeyRecord([]byte(in)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
