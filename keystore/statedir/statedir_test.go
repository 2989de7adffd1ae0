package statedir

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"kmsd/keystore"
)

func write(t *testing.T, s *State) {
	t.Helper()
	var b keystore.Batch
	b.PutAlias(&keystore.AliasRecord{AliasName: "alias/x", TargetKeyID: keystore.NewKeyID()})
	if err := s.Store.Write(&b); err != nil {
		t.Fatal(err)
	}
}

func TestNewDirectoryGetsARootKey(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	s, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if !s.CreatedRootKey {
		t.Error("CreatedRootKey is false for a new directory")
	}
	st, err := os.Stat(RootKeyPath(dir))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("root key: %v %v", st, err)
	}
	write(t, s)
	s.Store.Close()
	s, err = Open(Options{Dir: dir})
	if err != nil || s.CreatedRootKey {
		t.Fatalf("reopen: %v, created %v", err, s.CreatedRootKey)
	}
	s.Store.Close()
}

// TestWrongRootKeyFailsClosed: a store opened with a root key that is
// not the one it was sealed under is refused.
func TestWrongRootKeyFailsClosed(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	write(t, s)
	s.Store.Close()
	other := filepath.Join(t.TempDir(), "other-root-key")
	if err := keystore.CreateRootKey(other); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(Options{Dir: dir, RootKeyFile: other}); !errors.Is(err, keystore.ErrWrongRootKey) {
		t.Fatalf("opened with another root key: %v", err)
	}
	if _, err := Open(Options{Dir: t.TempDir(), RootKeyFile: filepath.Join(dir, "missing")}); err == nil {
		t.Fatal("opened with a missing root key file")
	}
}

// TestMissingRootKeyWritesNothing: a store in use whose root key file is
// gone is refused before any file is written; a new root key could never
// unseal it.
func TestMissingRootKeyWritesNothing(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	write(t, s)
	s.Store.Close()
	if err := os.Remove(RootKeyPath(dir)); err != nil {
		t.Fatal(err)
	}
	_, err = Open(Options{Dir: dir})
	if !errors.Is(err, keystore.ErrWrongRootKey) {
		t.Fatalf("opened without its root key: %v", err)
	}
	if _, err := os.Stat(RootKeyPath(dir)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a new root key was written for a store in use: %v", err)
	}
}

func TestLocked(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Store.Close()
	if _, err := Open(Options{Dir: dir}); !errors.Is(err, keystore.ErrLocked) {
		t.Fatalf("second open: %v", err)
	}
}
