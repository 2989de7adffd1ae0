package statedir

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"kmsd/keystore"
)

// backupOf makes a state directory with one alias and returns its backup
// and its root key's file.
func backupOf(t *testing.T) ([]byte, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "src")
	s, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	write(t, s)
	b, _, err := keystore.Backup(s.Store, s.Root, nil, nil)
	s.Store.Close()
	if err != nil {
		t.Fatal(err)
	}
	return b, RootKeyPath(dir)
}

// TestRestoreCannotHalfHappen: a restore that fails leaves no store
// behind (so the real one is not refused, and kmsd does not start on an
// empty store); one cut short leaves its directory, beside which kmsd
// refuses to start; a restore never writes over a store.
func TestRestoreCannotHalfHappen(t *testing.T) {
	backup, rootKey := backupOf(t)
	dir := filepath.Join(t.TempDir(), "dst")
	other := filepath.Join(t.TempDir(), "other-root-key")
	if err := keystore.CreateRootKey(other); err != nil {
		t.Fatal(err)
	}
	if _, err := Restore(Options{Dir: dir, RootKeyFile: other}, backup); !errors.Is(err, keystore.ErrWrongRootKey) {
		t.Fatalf("a restore under another root key: %v", err)
	}
	cut := append([]byte(nil), backup[:len(backup)-40]...)
	if _, err := Restore(Options{Dir: dir, RootKeyFile: rootKey}, cut); err == nil {
		t.Fatal("a backup cut short restored")
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Fatalf("failed restores left %v behind", left)
	}
	h, err := Restore(Options{Dir: dir, RootKeyFile: rootKey}, backup)
	if err != nil {
		t.Fatalf("the real restore, after failed ones: %v", err)
	}
	s, err := Open(Options{Dir: dir, RootKeyFile: rootKey})
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := keystore.Initialized(s.Store); !ok || err != nil || h.Records == 0 {
		t.Errorf("restored %d records; initialized %v %v", h.Records, ok, err)
	}
	s.Store.Close()
	if _, err := Restore(Options{Dir: dir, RootKeyFile: rootKey}, backup); !errors.Is(err, keystore.ErrNotEmpty) {
		t.Fatalf("a restore over a store: %v", err)
	}

	crashed := filepath.Join(t.TempDir(), "crashed")
	if err := os.MkdirAll(filepath.Join(crashed, restoringPrefix+"123"), 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(Options{Dir: crashed}); !errors.Is(err, ErrRestoreUnfinished) {
		t.Fatalf("kmsd started beside a restore cut short: %v", err)
	}
	if _, err := os.Stat(filepath.Join(crashed, "db")); err == nil {
		t.Fatal("Open made a store beside a restore cut short")
	}
}

// TestRetiredRootKeysAreKept: each rotation keeps the key it retires as
// root-key.old.N, read-only, never over one kept before: a backup taken
// two rotations ago still opens with a file kmsd kept.
func TestRetiredRootKeysAreKept(t *testing.T) {
	dir := t.TempDir()
	path := RootKeyPath(dir)
	var ids []string
	for i := range 3 {
		file := path
		if i > 0 {
			file = path + ".new"
		}
		if err := keystore.CreateRootKey(file); err != nil {
			t.Fatal(err)
		}
		rk, _ := keystore.LoadRootKey(file)
		ids = append(ids, rk.ID())
		if i > 0 {
			old, err := Adopt(path, file)
			if want := path + ".old." + strconv.Itoa(i); err != nil || old != want {
				t.Fatalf("rotation %d: kept %q (%v), want %s", i, old, err, want)
			}
		}
	}
	for i, id := range ids[:2] {
		f := path + ".old." + strconv.Itoa(i+1)
		rk, err := keystore.LoadRootKey(f)
		if err != nil || rk.ID() != id {
			t.Fatalf("%s: %v, id %v, want %s", f, err, rk, id)
		}
		if st, _ := os.Stat(f); st.Mode().Perm() != 0o400 {
			t.Errorf("%s is mode %v, want 0400", f, st.Mode().Perm())
		}
	}
	if rk, _ := keystore.LoadRootKey(path); rk.ID() != ids[2] {
		t.Error("root-key is not the newest key")
	}
}
