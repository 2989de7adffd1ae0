package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"kmsd/keystore"
	"kmsd/keystore/statedir"
)

// forgetRootKeyCmd removes a retired root key, once it is known to open
// none of the backups kept.
type forgetRootKeyCmd struct {
	StateDir string   `help:"The state directory whose retired root key this is." required:"" env:"STATE_DIRECTORY"`
	Force    bool     `help:"Remove it even if it opens some of the backups named."`
	Key      string   `arg:"" help:"The retired root key (STATE_DIR/root-key.old.N)."`
	Backups  []string `arg:"" optional:"" help:"The backups you keep: the key is removed only if it opens none of them."`
}

// Run says which of the backups the key opens and removes it if none
// (or --force); it never removes the key the store is sealed under.
func (c *forgetRootKeyCmd) Run() error {
	rk, err := keystore.LoadRootKey(c.Key)
	if err != nil {
		return err
	}
	if current, err := keystore.LoadRootKey(statedir.RootKeyPath(c.StateDir)); err == nil && current.ID() == rk.ID() {
		return fmt.Errorf("%s is the root key the store is sealed under (%s), not a retired one", c.Key, rk.ID())
	}
	var opens []string
	for _, p := range c.Backups {
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		ok, err := keystore.OpensBackup(b, rk)
		clear(b)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		if ok {
			opens = append(opens, p)
		}
	}
	if len(opens) > 0 && !c.Force {
		return fmt.Errorf("root key %s (%s) opens %d of the backups named: %s; keep it while you keep them (or --force)", rk.ID(), c.Key, len(opens), strings.Join(opens, ", "))
	}
	if err := os.Remove(c.Key); err != nil {
		return err
	}
	fmt.Printf("removed root key %s (%s); it opened %d of the %d backups named\n", rk.ID(), c.Key, len(opens), len(c.Backups))
	return nil
}

// keptRootKeys are the root key files kept in dir (root-key and the
// retired ones), by their ID.
func keptRootKeys(dir string) map[string]string {
	out := map[string]string{}
	files, _ := filepath.Glob(filepath.Join(dir, "root-key*"))
	for _, f := range files {
		if rk, err := keystore.LoadRootKey(f); err == nil {
			out[rk.ID()] = f
		}
	}
	return out
}

// neededKey explains a restore refused for its root key: the ID the
// backup needs, and the file kept here that holds it, if one does.
func neededKey(err error, h keystore.BackupHeader, dirs ...string) error {
	if !errors.Is(err, keystore.ErrWrongRootKey) || h.RootKeyID == "" {
		return err
	}
	for _, d := range dirs {
		if f, ok := keptRootKeys(d)[h.RootKeyID]; ok {
			return fmt.Errorf("%w; %s is that key: kmsd restore --root-key-file %s", err, f, f)
		}
	}
	return fmt.Errorf("%w; no root key file kept in %s is it", err, strings.Join(dirs, " or "))
}
