package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"kmsd/internal/testkit"
	"kmsd/wire/api"
)

// TestRootKeyRotationCrashSafe: kmsctl rotate-root-key re-seals every
// key under a new root key online; a kmsd killed (SIGKILL) at any step of
// it starts again with the key the store is sealed under and serves every
// key, and a later rotation completes. At the end the store opens under
// the new key only, and the old one is kept as root-key.old.
func TestRootKeyRotationCrashSafe(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := testkit.ShortDir(t)
	d := testkit.Start(t, testkit.Config{Dir: dir})
	c := d.Dial(t)
	type sealed struct {
		blob []byte
		pt   byte
	}
	var blobs []sealed
	for i := range 30 {
		k, err := c.CreateKey(ctx, &api.CreateKeyInput{})
		if err != nil {
			t.Fatal(err)
		}
		if i%3 == 0 {
			c.RotateKeyOnDemand(ctx, &api.KeyIDInput{KeyId: k.KeyMetadata.KeyId}) // keys with two versions
		}
		out, err := c.Encrypt(ctx, &api.EncryptInput{KeyId: k.KeyMetadata.KeyId, Plaintext: []byte{byte(i)}})
		if err != nil {
			t.Fatal(err)
		}
		blobs = append(blobs, sealed{out.CiphertextBlob, byte(i)})
	}
	decryptAll := func(d *testkit.Daemon) {
		t.Helper()
		c := d.Dial(t)
		for i, b := range blobs {
			out, err := c.Decrypt(ctx, &api.DecryptInput{CiphertextBlob: b.blob})
			if err != nil || out.Plaintext[0] != b.pt {
				t.Fatalf("ciphertext %d: %v", i, err)
			}
		}
	}
	d.Stop()
	rootKey := filepath.Join(dir, "state", "root-key")
	for _, step := range []string{"new-key-written", "next-seals-written", "committed", "promoted", "renamed"} {
		d = testkit.Start(t, testkit.Config{Dir: dir, Env: []string{"KMSD_TEST_CRASH_AT=" + step}})
		if _, _, code := d.Kmsctl(t, "rotate-root-key"); code == 0 {
			t.Fatalf("%s: the rotation returned though kmsd was to be killed", step)
		}
		if err := d.Wait(10 * time.Second); err == nil {
			t.Fatalf("%s: kmsd exited cleanly; it was to be killed", step)
		}
		d = testkit.Start(t, testkit.Config{Dir: dir})
		decryptAll(d)
		d.Stop()
	}
	d = testkit.Start(t, testkit.Config{Dir: dir})
	before, _ := os.ReadFile(rootKey)
	out := d.OK(t, "rotate-root-key")
	if !strings.Contains(out, `"Keys": 3`) || !strings.Contains(out, "root-key.old") {
		t.Fatalf("rotate-root-key: %s", out)
	}
	after, _ := os.ReadFile(rootKey)
	if string(before) == string(after) || len(after) != 32 {
		t.Fatal("the root key file did not change")
	}
	decryptAll(d) // in the running kmsd
	if _, err := d.Dial(t).CreateKey(ctx, &api.CreateKeyInput{}); err != nil {
		t.Fatalf("a key made after the rotation: %v", err)
	}
	d.Stop()
	// The old root key no longer opens the store.
	kmsd, _ := testkit.Binaries(t)
	old := filepath.Join(dir, "state", "root-key.old")
	if _, err := os.Stat(old); err != nil {
		t.Fatalf("the old root key was not kept: %v", err)
	}
	cmd := exec.Command(kmsd, "--state-dir", filepath.Join(dir, "state"), "--socket", filepath.Join(dir, "x.sock"), "--root-key-file", old)
	if b, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(b), "root key does not match") {
		t.Fatalf("the old root key still opens the store: %v %s", err, b)
	}
	d = testkit.Start(t, testkit.Config{Dir: dir})
	decryptAll(d)
	d.Stop()
	// Offline, for a root key kmsd is given: kmsd rotate-root-key.
	next := filepath.Join(testkit.ShortDir(t), "next-key")
	key := make([]byte, 32)
	copy(key, "a new root key, 32 bytes long..")
	os.WriteFile(next, key, 0o600)
	if b, err := exec.Command(kmsd, "rotate-root-key", "--state-dir", filepath.Join(dir, "state"), "--new-root-key-file", next).CombinedOutput(); err != nil || !strings.Contains(string(b), "done") {
		t.Fatalf("offline rotation: %v %s", err, b)
	}
	d = testkit.Start(t, testkit.Config{Dir: dir, Args: []string{"--root-key-file", next}})
	decryptAll(d)
	if _, _, code := d.Kmsctl(t, "rotate-root-key"); code == 0 {
		t.Fatal("an online rotation of a root key kmsd was given")
	}
}
