package e2e

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"kmsd/internal/testkit"
	"kmsd/keystore/statedir"
	"kmsd/wire/api"
)

// TestRootKeyRotationCrashSafe: kmsctl rotate-root-key re-seals every
// key under a new root key online; a kmsd killed (SIGKILL) at any step of
// it starts again with the key the store is sealed under and serves every
// key, and a later rotation completes. At the end the store opens under
// the new key only, and every retired one is kept as root-key.old.N
// (read-only), the newest being the last rotation's.
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
	// A signing key and an HMAC key, whose material is sealed in format 2:
	// after every rotation and crash, they verify what they made before
	// and make the same MAC.
	signer, err := c.CreateKey(ctx, &api.CreateKeyInput{KeySpec: "ECC_NIST_P384", KeyUsage: "SIGN_VERIFY"})
	if err != nil {
		t.Fatal(err)
	}
	sig, err := c.Sign(ctx, &api.SignInput{KeyId: signer.KeyMetadata.KeyId, Message: []byte("before"), SigningAlgorithm: "ECDSA_SHA_384"})
	if err != nil {
		t.Fatal(err)
	}
	macKey, err := c.CreateKey(ctx, &api.CreateKeyInput{KeySpec: "HMAC_512", KeyUsage: "GENERATE_VERIFY_MAC"})
	if err != nil {
		t.Fatal(err)
	}
	mac, err := c.GenerateMac(ctx, &api.GenerateMacInput{KeyId: macKey.KeyMetadata.KeyId, Message: []byte("before"), MacAlgorithm: "HMAC_SHA_512"})
	if err != nil {
		t.Fatal(err)
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
		if _, err := c.Verify(ctx, &api.VerifyInput{KeyId: signer.KeyMetadata.KeyId, Message: []byte("before"), Signature: sig.Signature, SigningAlgorithm: "ECDSA_SHA_384"}); err != nil {
			t.Fatalf("a signature made before: %v", err)
		}
		if _, err := c.VerifyMac(ctx, &api.VerifyMacInput{KeyId: macKey.KeyMetadata.KeyId, Message: []byte("before"), Mac: mac.Mac, MacAlgorithm: "HMAC_SHA_512"}); err != nil {
			t.Fatalf("a MAC made before: %v", err)
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
	if !strings.Contains(out, `"Keys": 33`) /* 30, the signer, the HMAC key and the trail's own */ || !strings.Contains(out, "root-key.old") {
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
	var rot struct{ OldRootKeyFile string }
	json.Unmarshal([]byte(out), &rot)
	old := rot.OldRootKeyFile
	if next, _ := statedir.RetiredPath(rootKey); old == "" || next != rootKey+".old."+strconv.Itoa(retiredNumber(t, old)+1) {
		t.Fatalf("the last rotation kept %q, which is not the newest kept (next: %s)", old, next)
	}
	if st, err := os.Stat(old); err != nil || st.Mode().Perm() != 0o400 {
		t.Fatalf("the old root key was not kept read-only: %v %v", st, err)
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

// retiredNumber is N of a kept root key file root-key.old.N.
func retiredNumber(t *testing.T, path string) int {
	t.Helper()
	i := strings.LastIndexByte(path, '.')
	n, err := strconv.Atoi(path[i+1:])
	if err != nil || !strings.HasSuffix(path[:i], "root-key.old") {
		t.Fatalf("%q is not a kept root key's name", path)
	}
	return n
}

// TestRetiredRootKeysForBackups: a backup taken before two rotations
// still restores with a key kmsd kept; kmsd restore, given the current
// key, names the kept file the backup needs; kmsd forget-root-key refuses
// to remove a key that opens a backup named (or the store's own), and
// removes one that opens none.
func TestRetiredRootKeysForBackups(t *testing.T) {
	t.Parallel()
	dir := testkit.ShortDir(t)
	d := testkit.Start(t, testkit.Config{Dir: dir})
	key := strings.TrimSpace(d.OK(t, "create-key", "--query", "KeyMetadata.KeyId", "--output", "text"))
	early := filepath.Join(dir, "early.kbk")
	d.OK(t, "backup", "--out", early)
	var rots []string
	for range 2 {
		var r struct{ OldRootKeyFile string }
		json.Unmarshal([]byte(d.OK(t, "rotate-root-key")), &r)
		rots = append(rots, r.OldRootKeyFile)
	}
	d.Stop()
	state := filepath.Join(dir, "state")
	kmsd, _ := testkit.Binaries(t)
	run := func(args ...string) (string, error) {
		b, err := exec.Command(kmsd, args...).CombinedOutput()
		return string(b), err
	}
	// the backup needs the first retired key; restore says which file it is
	dir2 := testkit.ShortDir(t)
	into := filepath.Join(dir2, "state")
	if out, err := run("restore", "--state-dir", into, "--root-key-file", filepath.Join(state, "root-key"), early); err == nil ||
		!strings.Contains(out, rots[0]) {
		t.Fatalf("restore under the current key: %v %s (want it to name %s)", err, out, rots[0])
	}
	if out, err := run("forget-root-key", "--state-dir", state, rots[0], early); err == nil || !strings.Contains(out, "opens 1 of the backups") {
		t.Fatalf("forgetting the key a backup needs: %v %s", err, out)
	}
	if out, err := run("forget-root-key", "--state-dir", state, filepath.Join(state, "root-key")); err == nil || !strings.Contains(out, "the store is sealed under") {
		t.Fatalf("forgetting the store's own key: %v %s", err, out)
	}
	if out, err := run("forget-root-key", "--state-dir", state, rots[1], early); err != nil || !strings.Contains(out, "opened 0 of the 1 backups") {
		t.Fatalf("forgetting a key no backup needs: %v %s", err, out)
	}
	if _, err := os.Stat(rots[1]); err == nil {
		t.Fatal("the forgotten key is still there")
	}
	if out, err := run("restore", "--state-dir", into, "--root-key-file", rots[0], early); err != nil {
		t.Fatalf("restore with the key restore named: %v %s", err, out)
	}
	d2 := testkit.Start(t, testkit.Config{Dir: dir2, Args: []string{"--root-key-file", rots[0]}})
	if out := d2.OK(t, "describe-key", "--key-id", key, "--query", "KeyMetadata.KeyId", "--output", "text"); strings.TrimSpace(out) != key {
		t.Fatalf("the restored key: %s", out)
	}
}
