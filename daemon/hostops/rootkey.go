package hostops

import (
	"context"
	"os"
	"syscall"

	"kmsd/daemon/policy"
	"kmsd/keystore"
	"kmsd/keystore/statedir"
	"kmsd/wire/api"
)

// RotateRootKey serves RotateRootKey: it re-seals every key under a new root key, online and
// crash-safe at every step (docs/operations.md):
//
//  1. a new root key is written beside the old: STATE_DIR/root-key.new;
//  2. the store moves to it (kms.Service.RotateRoot: next seals, the
//     commit, their promotion);
//  3. root-key becomes root-key.old.N (the next number free) and
//     root-key.new root-key.
//
// A kmsd killed at any step starts with the key the store is sealed under
// (statedir.Open finishes or undoes what it finds). Only a root key kmsd
// keeps in its state directory is rotated this way; one given as a file
// or a systemd credential is rotated offline (kmsd rotate-root-key).
func (o *Ops) RotateRootKey(ctx context.Context, _ api.Message) (api.Message, error) {
	svc := o.Service
	if p := policy.From(ctx); p == nil || p.UID != 0 {
		return nil, &api.Error{Code: api.CodeAccessDenied, Message: "only root may rotate kmsd's root key"}
	}
	path := o.RootKeyFile
	if path == "" {
		return nil, &api.Error{Code: api.CodeUnsupportedOperation, Message: "kmsd's root key is a file it was given or a systemd credential, which it may not replace: " +
			"rotate it offline with kmsd rotate-root-key (docs/operations.md)"}
	}
	next := path + ".new"
	os.Remove(next) // a rotation that never committed left it
	if err := keystore.CreateRootKey(next); err != nil {
		return nil, err
	}
	CrashAt("new-key-written")
	to, err := keystore.LoadRootKey(next)
	if err != nil {
		return nil, err
	}
	n, err := svc.RotateRoot(to, CrashAt)
	if err != nil {
		return nil, err
	}
	old, err := statedir.Adopt(path, next)
	if err != nil {
		o.Log.Error("the store is sealed under the new root key, but renaming it failed; kmsd will finish at its next start", "err", err)
		return nil, &api.Error{Code: api.CodeInternal, Message: "the keys are re-sealed, but the new root key could not be put in place; kmsd will at its next start"}
	}
	CrashAt("renamed")
	o.Log.Warn("root key rotated: back up the new one; the old one is kept (backups taken before open only under it) until you remove it with kmsd forget-root-key", "root_key", path, "old", old, "keys", n)
	return &api.RotateRootKeyOutput{RootKeyFile: path, OldRootKeyFile: old, Keys: int64(n)}, nil
}

// CrashAt kills kmsd (SIGKILL) at a named step of a root key rotation when
// KMSD_TEST_CRASH_AT names it: for the tests that check each step is
// crash-safe (this online rotation, and a fleet's offline one, kmsd
// rotate-root-key --store etcd). Unset, it does nothing.
func CrashAt(step string) {
	if v := os.Getenv("KMSD_TEST_CRASH_AT"); v != "" && v == step {
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {} // the signal is on its way
	}
}
