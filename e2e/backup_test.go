package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"kmsd/internal/testkit"
	"kmsd/keystore"
	"kmsd/wire/api"
)

// TestBackupUnderLoadRestores: a backup taken while callers encrypt
// restores into a fresh state directory on another path, where every
// ciphertext made before the backup decrypts, with its alias; a restore
// under another root key, or into a state directory in use, is refused.
func TestBackupUnderLoadRestores(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := testkit.Start(t, testkit.Config{})
	c := d.Dial(t)
	var keys []string
	for i := range 20 {
		k, err := c.CreateKey(ctx, &api.CreateKeyInput{Description: "backed up"})
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k.KeyMetadata.KeyId)
		if i == 0 {
			c.CreateAlias(ctx, &api.AliasInput{AliasName: "alias/backed-up", TargetKeyId: k.KeyMetadata.KeyId})
		}
	}
	signer, err := c.CreateKey(ctx, &api.CreateKeyInput{KeySpec: "ECC_SECG_P256K1", KeyUsage: "SIGN_VERIFY"})
	if err != nil {
		t.Fatal(err)
	}
	pub, err := c.GetPublicKey(ctx, &api.GetPublicKeyInput{KeyId: signer.KeyMetadata.KeyId})
	if err != nil {
		t.Fatal(err)
	}
	var before [][]byte
	for i := range 200 {
		out, err := c.Encrypt(ctx, &api.EncryptInput{KeyId: keys[i%len(keys)], Plaintext: []byte{byte(i)}, EncryptionContext: map[string]string{"n": "x"}})
		if err != nil {
			t.Fatal(err)
		}
		before = append(before, out.CiphertextBlob)
	}
	// Load while the backup is taken: encrypts, and keys being made.
	stop := make(chan struct{})
	var load sync.WaitGroup
	var during atomic.Int64
	for range 4 {
		load.Add(1)
		go func() {
			defer load.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := c.Encrypt(ctx, &api.EncryptInput{KeyId: keys[0], Plaintext: []byte("load")}); err == nil {
					during.Add(1)
				}
				c.CreateKey(ctx, &api.CreateKeyInput{Description: "made during the backup"})
			}
		}()
	}
	file := filepath.Join(testkit.ShortDir(t), "kmsd.backup")
	out := d.OK(t, "backup", "--out", file)
	close(stop)
	load.Wait()
	if !strings.Contains(out, `"Keys"`) || during.Load() == 0 {
		t.Fatalf("backup: %s (%d calls during it)", out, during.Load())
	}
	if st, err := os.Stat(file); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("the backup file: %v %v", st, err)
	}
	kmsd, _ := testkit.Binaries(t)
	restore := func(args ...string) (string, error) {
		b, err := exec.Command(kmsd, append([]string{"restore"}, args...)...).CombinedOutput()
		return string(b), err
	}
	// Another root key: refused.
	other := filepath.Join(testkit.ShortDir(t), "other-key")
	keystore.CreateRootKey(other)
	if out, err := restore("--state-dir", filepath.Join(testkit.ShortDir(t), "state"), "--root-key-file", other, file); err == nil {
		t.Fatalf("restored under another root key: %s", out)
	}
	// A state directory in use: refused.
	if out, err := restore("--state-dir", d.State, "--root-key-file", filepath.Join(d.State, "root-key"), file); err == nil {
		t.Fatalf("restored into a store in use: %s", out)
	}
	// A fresh directory elsewhere, with the root key copied as an
	// operator would.
	dir := testkit.ShortDir(t)
	state := filepath.Join(dir, "state")
	os.MkdirAll(state, 0o700)
	rk, _ := os.ReadFile(filepath.Join(d.State, "root-key"))
	os.WriteFile(filepath.Join(state, "root-key"), rk, 0o600)
	if out, err := restore("--state-dir", state, file); err != nil || !strings.Contains(out, "restored") {
		t.Fatalf("restore: %v %s", err, out)
	}
	d2 := testkit.Start(t, testkit.Config{Dir: dir})
	c2 := d2.Dial(t)
	for i, blob := range before {
		got, err := c2.Decrypt(ctx, &api.DecryptInput{CiphertextBlob: blob, EncryptionContext: map[string]string{"n": "x"}})
		if err != nil || len(got.Plaintext) != 1 || got.Plaintext[0] != byte(i) {
			t.Fatalf("ciphertext %d after the restore: %v", i, err)
		}
	}
	if _, err := c2.Encrypt(ctx, &api.EncryptInput{KeyId: "alias/backed-up", Plaintext: []byte("x")}); err != nil {
		t.Fatalf("the alias after the restore: %v", err)
	}
	// The signing key came back whole: the same public key, and it signs.
	pub2, err := c2.GetPublicKey(ctx, &api.GetPublicKeyInput{KeyId: signer.KeyMetadata.KeyId})
	if err != nil || !bytes.Equal(pub2.PublicKey, pub.PublicKey) {
		t.Fatalf("the signing key after the restore: %v", err)
	}
	sig, err := c2.Sign(ctx, &api.SignInput{KeyId: signer.KeyMetadata.KeyId, Message: []byte("restored"), SigningAlgorithm: "ECDSA_SHA_256"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Verify(ctx, &api.VerifyInput{KeyId: signer.KeyMetadata.KeyId, Message: []byte("restored"), Signature: sig.Signature, SigningAlgorithm: "ECDSA_SHA_256"}); err != nil {
		t.Fatalf("the original kmsd does not verify the restored key's signature: %v", err)
	}
}
