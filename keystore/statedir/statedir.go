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
	"strconv"
	"strings"

	"kmsd/keystore"
	"kmsd/keystore/badgerstore"
)

// Options configures Open.
type Options struct {
	Dir         string // the state directory, created 0700 if missing
	RootKeyFile string // an existing root key; "" means DIR/root-key
	NoSync      bool   // tests and bulk loads only: see badgerstore
	Logger      *slog.Logger
	// Progress, if set, is told how far a Restore is: records written of
	// the backup's.
	Progress func(done, total int)
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
	if left, _ := filepath.Glob(filepath.Join(o.Dir, restoringPrefix+"*")); len(left) > 0 {
		return nil, fmt.Errorf("%w: %s is a restore that did not finish: remove it, and DIR/db if a store was started there since, and run kmsd restore again", ErrRestoreUnfinished, left[0])
	}
	st, err := badgerstore.Open(badgerstore.Options{Dir: filepath.Join(o.Dir, "db"), NoSync: o.NoSync, Logger: o.Logger})
	if err != nil {
		return nil, err
	}
	s := &State{Store: st}
	if s.Root, s.CreatedRootKey, err = rootKey(o, st); err == nil {
		err = keystore.Init(st, s.Root)
	}
	if err == nil {
		_, err = keystore.FinishRotation(st, s.Root)
	}
	if err != nil {
		st.Close()
		return nil, err
	}
	return s, nil
}

// rootKey finds the state directory's root key: the file named, or
// DIR/root-key, or (a root key rotation interrupted after it committed)
// DIR/root-key.new, which then takes its place; or, for a store never
// used, a new DIR/root-key.
func rootKey(o Options, st keystore.Store) (*keystore.RootKey, bool, error) {
	if o.RootKeyFile != "" {
		rk, err := keystore.LoadRootKey(o.RootKeyFile)
		return rk, false, err
	}
	path := RootKeyPath(o.Dir)
	next := path + ".new"
	rk, err := keystore.LoadRootKey(path)
	if err == nil && keystore.CheckRootKey(st, rk) == nil {
		os.Remove(next) // a rotation that never committed
		return rk, false, nil
	}
	if nrk, nerr := keystore.LoadRootKey(next); nerr == nil && keystore.CheckRootKey(st, nrk) == nil {
		if _, err := adopt(path, next); err != nil {
			return nil, false, err
		}
		return nrk, false, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		if err == nil {
			err = keystore.CheckRootKey(st, rk)
		}
		return nil, false, err
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

// Adopt makes the new root key next the root key at path, keeping the
// old one as path.old.N (N the next number free, mode 0400: every retired
// key is kept, until the operator removes it with kmsd forget-root-key,
// as a backup taken before the rotation opens only under it): the last
// step of a root key rotation. It returns where the old one is kept ("" if
// there was none).
func Adopt(path, next string) (old string, err error) { return adopt(path, next) }

func adopt(path, next string) (string, error) {
	old := ""
	if _, err := os.Stat(path); err == nil {
		if old, err = RetiredPath(path); err != nil {
			return "", err
		}
		if err := os.Chmod(path, 0o400); err != nil {
			return "", err
		}
		if err := os.Link(path, old); err != nil { // never over another kept key
			return "", err
		}
		if err := os.Remove(path); err != nil {
			return "", err
		}
	}
	if err := os.Rename(next, path); err != nil {
		return "", err
	}
	return old, syncDir(filepath.Dir(path))
}

// RetiredPath is where the next root key retired from path is kept:
// path.old.N, N one more than the highest kept.
func RetiredPath(path string) (string, error) {
	kept, err := filepath.Glob(path + ".old.*")
	if err != nil {
		return "", err
	}
	n := 0
	for _, k := range kept {
		if i, err := strconv.Atoi(strings.TrimPrefix(k, path+".old.")); err == nil && i > n {
			n = i
		}
	}
	return path + ".old." + strconv.Itoa(n+1), nil
}

// ErrRestoreUnfinished is Open's refusal of a state directory a restore
// began in and did not finish.
var ErrRestoreUnfinished = errors.New("a restore into this state directory did not finish")

// restoringPrefix names the directory a restore writes the store into,
// beside DIR/db, before it becomes DIR/db.
const restoringPrefix = "db.restoring-"

// Restore writes a backup (keystore.Backup) into the state directory
// o.Dir, which must hold no store yet, under the root key o names (or
// DIR/root-key, which must exist: a restore never makes a root key, as
// the backup opens only under the one it was taken with). It cannot half
// happen: the store is written into DIR/db.restoring-* and renamed to
// DIR/db once whole; a restore that fails removes it, and one cut short
// (a crash) leaves it, which Open then refuses to start beside.
func Restore(o Options, backup []byte) (keystore.BackupHeader, error) {
	path := o.RootKeyFile
	if path == "" {
		path = RootKeyPath(o.Dir)
	}
	rk, err := keystore.LoadRootKey(path)
	if err != nil {
		return keystore.BackupHeader{}, fmt.Errorf("the root key the backup was taken under: %w", err)
	}
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return keystore.BackupHeader{}, err
	}
	db := filepath.Join(o.Dir, "db")
	if _, err := os.Stat(db); err == nil {
		return keystore.BackupHeader{}, fmt.Errorf("%w: %s exists; restore into an empty state directory", keystore.ErrNotEmpty, db)
	}
	tmp, err := os.MkdirTemp(o.Dir, restoringPrefix)
	if err != nil {
		return keystore.BackupHeader{}, err
	}
	st, err := badgerstore.Open(badgerstore.Options{Dir: tmp, NoSync: o.NoSync, Logger: o.Logger})
	if err != nil {
		os.RemoveAll(tmp)
		return keystore.BackupHeader{}, err
	}
	h, err := keystore.Restore(st, rk, backup, o.Progress)
	if err = errors.Join(err, st.Close()); err != nil {
		os.RemoveAll(tmp)
		return h, err
	}
	if err := os.Rename(tmp, db); err != nil {
		os.RemoveAll(tmp)
		return h, err
	}
	return h, syncDir(o.Dir)
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// RootKeyFile is the root key file kmsd uses for a state directory: the
// one given, else systemd's credential ($CREDENTIALS_DIRECTORY/root-key)
// if it exists, else "" (DIR/root-key).
func RootKeyFile(given string) string {
	if given != "" {
		return given
	}
	if dir := os.Getenv("CREDENTIALS_DIRECTORY"); dir != "" {
		p := filepath.Join(dir, "root-key")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}
