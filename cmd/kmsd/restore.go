package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"kmsd/daemon"
	"kmsd/daemon/hostops"
	"kmsd/keystore"
	"kmsd/keystore/etcdstore"
	"kmsd/keystore/statedir"
)

// restoreCmd restores a backup into an empty state directory.
type restoreCmd struct {
	StateDir    string `help:"The state directory to restore into: empty, or not yet made." required:"" env:"STATE_DIRECTORY"`
	RootKeyFile string `help:"The root key the backup was taken under (default: $CREDENTIALS_DIRECTORY/root-key, else STATE_DIR/root-key, which must then be put there first)."`
	File        string `arg:"" help:"The backup (kmsctl backup --out)."`
	etcdFlags
}

// Run opens the backup with the root key, as kmsd would at start, and
// writes its records into a new store.
func (c *restoreCmd) Run() error {
	b, err := os.ReadFile(c.File)
	if err != nil {
		return err
	}
	if len(b) > keystore.MaxBackup {
		return fmt.Errorf("%s is larger than a backup may be", c.File)
	}
	key := statedir.RootKeyFile(c.RootKeyFile)
	o := statedir.Options{Dir: c.StateDir, RootKeyFile: key}
	if isTerminal(os.Stderr) {
		o.Progress = progress(os.Stderr)
	}
	if c.fleet() {
		return c.restoreFleet(o, b)
	}
	h, err := statedir.Restore(o, b)
	clear(b)
	if err != nil {
		dirs := []string{c.StateDir}
		if key != "" {
			dirs = append(dirs, filepath.Dir(key))
		}
		return neededKey(err, h, dirs...)
	}
	fmt.Printf("restored %d records (%d keys) taken %s into %s\n", h.Records, h.Keys, h.Created.Format("2006-01-02T15:04:05Z"), c.StateDir)
	return nil
}

// progress writes a restore's progress on a terminal, one line redrawn at
// most ten times a second, ended when the last record is written.
func progress(w io.Writer) func(done, total int) {
	var last time.Time
	return func(done, total int) {
		now := time.Now()
		if done < total && now.Sub(last) < 100*time.Millisecond {
			return
		}
		last = now
		fmt.Fprintf(w, "\rrestoring: %d of %d records (%d%%)", done, total, 100*done/max(1, total))
		if done >= total {
			fmt.Fprintln(w)
		}
	}
}

// isTerminal reports whether f is a terminal.
func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// rotateRootKeyCmd re-seals a state directory under a new root key,
// offline.
type rotateRootKeyCmd struct {
	StateDir       string `help:"The state directory (kmsd must not be serving it)." required:"" env:"STATE_DIRECTORY"`
	RootKeyFile    string `help:"Its root key now (default: $CREDENTIALS_DIRECTORY/root-key, else STATE_DIR/root-key)."`
	NewRootKeyFile string `help:"The new root key: 32 bytes, mode 0600 (head -c 32 /dev/urandom > FILE)." required:""`
	etcdFlags
}

// Run re-seals every key under the new root key. A crash leaves a state
// directory that opens under whichever key it was committed to (try the
// new one, then the old); keep both until this prints done.
func (c *rotateRootKeyCmd) Run() error {
	if c.fleet() {
		return c.rotateFleet()
	}
	st, err := statedir.Open(statedir.Options{Dir: c.StateDir, RootKeyFile: statedir.RootKeyFile(c.RootKeyFile)})
	if err != nil {
		return err
	}
	to, err := keystore.LoadRootKey(c.NewRootKeyFile)
	if err != nil {
		st.Store.Close()
		return err
	}
	vs, err := keystore.RotateRoot(st.Store, st.Root, to, nil)
	if err := errors.Join(err, st.Store.Close()); err != nil {
		return err
	}
	fmt.Printf("done: %d keys re-sealed under %s; start kmsd with it, then delete the old root key\n", len(vs), c.NewRootKeyFile)
	return nil
}

// restoreFleet restores the backup into an empty etcd prefix, with the
// root key at --root-key-file or STATE_DIR/root-key (which every host of
// the fleet is then given).
func (c *restoreCmd) restoreFleet(o statedir.Options, b []byte) error {
	defer clear(b)
	path := o.RootKeyFile
	if path == "" {
		path = statedir.RootKeyPath(c.StateDir)
	}
	rk, err := keystore.LoadRootKey(path)
	if err != nil {
		return fmt.Errorf("the root key the backup was taken under: %w", err)
	}
	st, err := c.open()
	if err != nil {
		return err
	}
	defer st.Close()
	h, err := etcdstore.Restore(st, rk, b, o.Progress)
	if err != nil {
		return neededKey(err, h, filepath.Dir(path))
	}
	fmt.Printf("restored %d records (%d keys) taken %s into etcd under %s\n", h.Records, h.Keys, h.Created.Format("2006-01-02T15:04:05Z"), st.Prefix())
	return nil
}

// rotateFleet re-seals a fleet's keys in etcd under the new root key,
// with every host of the fleet stopped (it refuses while one runs: a
// host would go on sealing under the old key). Crash-safe as a state
// directory's rotation: a fleet host started with either key finishes
// or undoes what it finds (keystore.FinishRotation).
func (c *rotateRootKeyCmd) rotateFleet() error {
	path := statedir.RootKeyFile(c.RootKeyFile)
	if path == "" {
		path = statedir.RootKeyPath(c.StateDir)
	}
	old, err := keystore.LoadRootKey(path)
	if err != nil {
		return err
	}
	to, err := keystore.LoadRootKey(c.NewRootKeyFile)
	if err != nil {
		return err
	}
	st, err := c.open()
	if err != nil {
		return err
	}
	defer st.Close()
	if hosts, err := st.Candidates(daemon.SchedulerJob); err != nil {
		return err
	} else if len(hosts) > 0 {
		return fmt.Errorf("hosts of the fleet are running (%s): stop every one, then rotate", strings.Join(hosts, ", "))
	}
	if err := keystore.Init(st, old); err != nil {
		return err
	}
	if _, err := keystore.FinishRotation(st, old); err != nil {
		return err
	}
	vs, err := keystore.RotateRoot(st, old, to, hostops.CrashAt)
	if err != nil {
		return err
	}
	fmt.Printf("done: %d keys of the fleet under %s re-sealed under %s; give every host the new root key, start them, then delete the old one\n", len(vs), st.Prefix(), c.NewRootKeyFile)
	return nil
}
