package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"kmsd/daemon/kms"
	"kmsd/daemon/policy"
	"kmsd/internal/ci"
	"kmsd/internal/testkit"
	"kmsd/keystore"
	"kmsd/keystore/memstore"
	"kmsd/wire/api"
)

// TestRestoreAtScale: `kmsd restore` of a backup of 10,000 keys (kmsd's
// quota), each with its policy, which is far more than one Badger
// transaction takes (501 keys were the most before): the restore writes
// in batches within Badger's limits, is whole or absent, shows its
// progress on a terminal (and not in a pipe), and the restored kmsd has
// every key and opens what was sealed before.
func TestRestoreAtScale(t *testing.T) {
	t.Parallel()
	kmsdBin, _ := testkit.Binaries(t)
	dir := t.TempDir()
	rootKey := filepath.Join(dir, "root-key")
	if err := keystore.CreateRootKey(rootKey); err != nil {
		t.Fatal(err)
	}
	rk, err := keystore.LoadRootKey(rootKey)
	if err != nil {
		t.Fatal(err)
	}
	// The backup is made in process, as kmsd makes it, over a store in
	// memory: 10,000 keys through the socket would take minutes here.
	svc, err := kms.Open(kms.Config{Store: memstore.New(), RootKey: rk, TickInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	ctx := policy.WithPrincipal(context.Background(), &policy.Principal{UID: 0, GID: 0, Source: "test"})
	const keys = 10_000
	var last string
	for i := range keys {
		k, err := svc.CreateKey(ctx, &api.CreateKeyInput{Description: fmt.Sprintf("key %d of a large store", i)})
		if err != nil {
			t.Fatalf("key %d: %v", i, err)
		}
		last = k.KeyMetadata.KeyId
	}
	if err := svc.CreateAlias(ctx, &api.AliasInput{AliasName: "alias/last", TargetKeyId: last}); err != nil {
		t.Fatal(err)
	}
	sealed, err := svc.Encrypt(ctx, &api.EncryptInput{KeyId: "alias/last", Plaintext: []byte("made before the backup")})
	if err != nil {
		t.Fatal(err)
	}
	backup, h, err := svc.Backup(nil, nil)
	svc.Close()
	if err != nil {
		t.Fatal(err)
	}
	if h.Keys != keys {
		t.Fatalf("the backup holds %d keys", h.Keys)
	}
	file := filepath.Join(dir, "backup")
	if err := os.WriteFile(file, backup, 0o600); err != nil {
		t.Fatal(err)
	}

	// In a pipe: no progress, the summary on stdout.
	run := testkit.ShortDir(t) // kmsd's, with its socket: state/ is its state directory
	state := filepath.Join(run, "state")
	out, err := exec.Command(kmsdBin, "restore", "--state-dir", state, "--root-key-file", rootKey, file).CombinedOutput()
	if err != nil {
		t.Fatalf("kmsd restore of %d keys: %v\n%s", keys, err, out)
	}
	if !strings.Contains(string(out), fmt.Sprintf("(%d keys)", keys)) || strings.Contains(string(out), "\r") {
		t.Errorf("kmsd restore printed %q", out)
	}
	// On a terminal (script(1) gives it one): progress, ending at 100%.
	if _, err := exec.LookPath("script"); err != nil {
		ci.Skip(t, "no script(1) (util-linux) to give kmsd restore a terminal")
	} else {
		onTTY := filepath.Join(dir, "state-tty")
		cmd := exec.Command("script", "-qec", strings.Join([]string{kmsdBin, "restore", "--state-dir", onTTY, "--root-key-file", rootKey, file}, " "), "/dev/null")
		tty, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("kmsd restore on a terminal: %v\n%s", err, tty)
		}
		if !strings.Contains(string(tty), "\rrestoring: ") || !strings.Contains(string(tty), "(100%)") {
			t.Errorf("no progress on a terminal: %q", tty)
		}
	}

	d := testkit.Start(t, testkit.Config{Dir: run, Args: []string{"--root-key-file", rootKey}})
	c := d.Dial(t)
	st, err := c.Status(context.Background(), &api.StatusInput{})
	if err != nil || st.KeyCount != keys {
		t.Fatalf("the restored kmsd has %v keys (%v), want %d", st.KeyCount, err, keys)
	}
	dec, err := c.Decrypt(context.Background(), &api.DecryptInput{CiphertextBlob: sealed.CiphertextBlob})
	if err != nil || string(dec.Plaintext) != "made before the backup" {
		t.Fatalf("a blob sealed before the backup: %v", err)
	}
}
