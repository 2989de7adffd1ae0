package badgerstore

import (
	"errors"
	"testing"

	"kmsd/keystore"
	"kmsd/keystore/storetest"
)

func TestConformance(t *testing.T) {
	var dir string
	open := func(t *testing.T) keystore.Store {
		dir = t.TempDir()
		return reopenAt(t, dir)
	}
	storetest.Run(t, open, func(t *testing.T) keystore.Store { return reopenAt(t, dir) })
}

func reopenAt(t *testing.T, dir string) keystore.Store {
	t.Helper()
	s, err := Open(Options{Dir: dir, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestLocked: a second Open of a directory fails with ErrLocked, by the
// lock's own error, while the first holds it; once closed, it opens.
func TestLocked(t *testing.T) {
	dir := t.TempDir()
	s := reopenAt(t, dir)
	if _, err := Open(Options{Dir: dir}); !errors.Is(err, keystore.ErrLocked) {
		t.Fatalf("second open: %v", err)
	}
	s.Close()
	reopenAt(t, dir).Close()
}
