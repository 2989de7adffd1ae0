// Package statedir opens a kmsd state directory: the Badger store in
// DIR/db and the root key that seals it, checked against each other
// before anything is served or written.
//
// The root key comes from Options.RootKeyFile when it is set (a file the
// operator keeps, or systemd's credential), else from DIR/root-key. That
// file is created only for a new, empty store: if the store already holds
// keys and its root key is not there, Open fails and writes nothing, as a
// new key could never unseal the old ones.
package statedir

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"kmsd/keystore"
	"kmsd/keystore/badgerstore"
)

// Options configures Open.
type Options struct {
	Dir         string // the state directory, created 0700 if missing
	RootKeyFile string // an existing root key; "" means DIR/root-key
	NoSync      bool   // tests and bulk loads only: see badgerstore
	Logger      *slog.Logger
}

// State is an open state directory.
type State struct {
	Store keystore.Store
	Root  *keystore.RootKey
	// CreatedRootKey says that Open made DIR/root-key for a new store:
	// the operator must back it up.
	CreatedRootKey bool
}

// RootKeyPath is where the root key of a state directory is kept when no
// other file is named.
func RootKeyPath(dir string) string { return filepath.Join(dir, "root-key") }

// Open opens the store and its root key, and checks one against the
// other (keystore.Init). A store sealed under another root key is
// keystore.ErrWrongRootKey; a directory another kmsd has open is
// keystore.ErrLocked.
func Open(o Options) (*State, error) {
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return nil, err
	}
	st, err := badgerstore.Open(badgerstore.Options{Dir: filepath.Join(o.Dir, "db"), NoSync: o.NoSync, Logger: o.Logger})
	if err != nil {
		return nil, err
	}
	s := &State{Store: st}
	if s.Root, s.CreatedRootKey, err = rootKey(o, st); err == nil {
		err = keystore.Init(st, s.Root)
	}
	if err != nil {
		st.Close()
		return nil, err
	}
	return s, nil
}

func rootKey(o Options, st keystore.Store) (*keystore.RootKey, bool, error) {
	if o.RootKeyFile != "" {
		rk, err := keystore.LoadRootKey(o.RootKeyFile)
		return rk, false, err
	}
	path := RootKeyPath(o.Dir)
	rk, err := keystore.LoadRootKey(path)
	if !errors.Is(err, os.ErrNotExist) {
		return rk, false, err
	}
	used, err := keystore.Initialized(st)
	if err != nil {
		return nil, false, err
	}
	if used {
		return nil, false, fmt.Errorf("%w: the store in %s was sealed under a root key that is not at %s; "+
			"put it back (or name it with --root-key-file): a new one could not unseal any key", keystore.ErrWrongRootKey, filepath.Join(o.Dir, "db"), path)
	}
	if err := keystore.CreateRootKey(path); err != nil {
		return nil, false, err
	}
	rk, err = keystore.LoadRootKey(path)
	return rk, true, err
}
