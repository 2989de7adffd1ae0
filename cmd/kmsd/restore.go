package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"

	"kmsd/keystore"
	"kmsd/keystore/statedir"
)

// restoreCmd restores a backup into an empty state directory.
type restoreCmd struct {
	StateDir    string `help:"The state directory to restore into: empty, or not yet made." required:"" env:"STATE_DIRECTORY"`
	RootKeyFile string `help:"The root key the backup was taken under (default: $CREDENTIALS_DIRECTORY/root-key, else STATE_DIR/root-key, which must then be put there first)."`
	File        string `arg:"" help:"The backup (kmsctl backup --out)."`
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
}

// Run re-seals every key under the new root key. A crash leaves a state
// directory that opens under whichever key it was committed to (try the
// new one, then the old); keep both until this prints done.
func (c *rotateRootKeyCmd) Run() error {
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
