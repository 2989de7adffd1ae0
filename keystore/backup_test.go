package keystore_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"kmsd/keystore"
	"kmsd/keystore/memstore"
)

func rootKey(t testing.TB, b byte) *keystore.RootKey {
	rk, err := keystore.NewRootKey(bytes.Repeat([]byte{b}, keystore.RootKeySize))
	if err != nil {
		t.Fatal(err)
	}
	return rk
}

// dump is every record of a store, in order.
func dump(t *testing.T, st keystore.Store) [][2]string {
	var out [][2]string
	st.Scan(nil, func(k, v []byte) error { out = append(out, [2]string{string(k), string(v)}); return nil })
	return out
}

// TestBackupRestore: a backup restores, under its root key only, into an
// empty store, record for record (the skipped metadata left out, the
// format and root check written for the root key); a changed byte, another
// root key or a store in use are refused.
func TestBackupRestore(t *testing.T) {
	rk := rootKey(t, 3)
	src := memstore.New()
	if err := keystore.Init(src, rk); err != nil {
		t.Fatal(err)
	}
	id := keystore.NewKeyID()
	sealed, _ := rk.Seal(id, 1, bytes.Repeat([]byte{9}, keystore.MaterialSize))
	var b keystore.Batch
	b.PutKey(&keystore.KeyRecord{KeyID: id, CreationDate: time.Now().UTC(), KeyState: "Enabled", Versions: []keystore.Version{{Version: 1, Sealed: sealed}}})
	b.PutAlias(&keystore.AliasRecord{AliasName: "alias/x", TargetKeyID: id})
	b.PutMeta("audit-checkpoint", []byte("the trail's own"))
	b.PutMeta("kept", []byte("kept"))
	if err := src.Write(&b); err != nil {
		t.Fatal(err)
	}
	backup, h, err := keystore.Backup(src, rk, func(m string) bool { return m == "audit-checkpoint" }, map[string]string{"by": "test"})
	if err != nil || h.Keys != 1 {
		t.Fatalf("backup: %+v %v", h, err)
	}
	if bytes.Contains(backup, []byte("alias/x")) {
		t.Fatal("the backup holds records in the clear")
	}
	dst := memstore.New()
	if _, err := keystore.Restore(dst, rootKey(t, 4), backup, nil); !errors.Is(err, keystore.ErrWrongRootKey) {
		t.Fatalf("restore under another root key: %v", err)
	}
	bad := bytes.Clone(backup)
	bad[len(bad)-20] ^= 1
	if _, err := keystore.Restore(dst, rk, bad, nil); err == nil {
		t.Fatal("a changed backup restored")
	}
	if _, err := keystore.Restore(dst, rk, backup, nil); err != nil {
		t.Fatal(err)
	}
	want := dump(t, src)
	got := dump(t, dst)
	var kept int
	for _, r := range got {
		if r[0] == "maudit-checkpoint" {
			t.Fatal("skipped metadata restored")
		}
		if r[0] == "mkept" {
			kept++
		}
	}
	if kept != 1 || len(got) != len(want)-1 {
		t.Fatalf("restored %d records of %d (kept meta %d)", len(got), len(want), kept)
	}
	if err := keystore.Init(dst, rk); err != nil {
		t.Fatalf("the restored store does not open under its root key: %v", err)
	}
	if _, err := keystore.Restore(dst, rk, backup, nil); !errors.Is(err, keystore.ErrNotEmpty) {
		t.Fatalf("restore into a store in use: %v", err)
	}
}

// FuzzRestore: no input panics a restore, or restores without the key.
func FuzzRestore(f *testing.F) {
	rk := rootKey(f, 3)
	src := memstore.New()
	keystore.Init(src, rk)
	backup, _, _ := keystore.Backup(src, rk, nil, nil)
	f.Add(backup)
	f.Add([]byte("KMSDBAK1\x00\x00\x00\x02{}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		dst := memstore.New()
		if _, err := keystore.Restore(dst, rk, b, nil); err == nil && !bytes.Equal(b, backup) && len(b) < len(backup) {
			t.Fatalf("restored from %d bytes that are not a backup", len(b))
		}
	})
}
