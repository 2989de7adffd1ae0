package e2e

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"kmsd/internal/softhsm"
	"kmsd/internal/testkit"
	"kmsd/wire/api"
)

// TestCustomKeyStore drives a custom key store on SoftHSM2 with the real
// binaries: create, connect, keys made and used by the token (one by one
// and in a batch), disconnected (refused), not deletable while it holds
// keys, connected again across a restart.
func TestCustomKeyStore(t *testing.T) {
	h := softhsm.Require(t)
	dir := testkit.ShortDir(t)
	d := testkit.Start(t, testkit.Config{Dir: dir})
	var cs struct{ CustomKeyStoreId string }
	json.Unmarshal([]byte(d.OK(t, "create-custom-key-store", "--custom-key-store-name", "softhsm", "--pkcs11-module", h.Module,
		"--token-label", h.Label, "--key-store-password-file", h.PINFile)), &cs)
	store := cs.CustomKeyStoreId
	if !strings.HasPrefix(store, "cks-") {
		t.Fatalf("store id %q", store)
	}
	d.OK(t, "connect-custom-key-store", "--custom-key-store-id", store)
	if got := d.OK(t, "describe-custom-key-stores", "--custom-key-store-id", store, "--query",
		"CustomKeyStores[0].[ConnectionState,CloudHsmClusterId,CustomKeyStoreType]", "--output", "text"); got != "CONNECTED\t"+h.Serial+"\tPKCS11\n" {
		t.Fatalf("describe: %q", got)
	}
	key := strings.TrimSpace(d.OK(t, "create-key", "--custom-key-store-id", store, "--query", "KeyMetadata.KeyId", "--output", "text"))
	if got := d.OK(t, "describe-key", "--key-id", key, "--query", "KeyMetadata.[Origin,CustomKeyStoreId]", "--output", "text"); got != "AWS_CLOUDHSM\t"+store+"\n" {
		t.Errorf("describe-key: %q", got)
	}
	os.WriteFile(filepath.Join(dir, "pt"), []byte("in the HSM"), 0o600)
	blob := strings.TrimSpace(d.OK(t, "encrypt", "--key-id", key, "--plaintext", "fileb://"+filepath.Join(dir, "pt"),
		"--encryption-context", "app=hsm", "--query", "CiphertextBlob", "--output", "text"))
	decrypt := func() (string, string, int) {
		return d.Kmsctl(t, "decrypt", "--ciphertext-blob", blob, "--encryption-context", "app=hsm", "--query", "Plaintext", "--output", "text")
	}
	if out, _, code := decrypt(); code != 0 || out != "aW4gdGhlIEhTTQ==\n" {
		t.Fatalf("decrypt: %q exit %d", out, code)
	}
	// A batch under the token's key.
	c := d.Dial(t)
	items := make([]*api.EncryptInput, 256)
	for i := range items {
		items[i] = &api.EncryptInput{KeyId: key, Plaintext: []byte("batch item")}
	}
	res, err := c.EncryptBatch(context.Background(), items)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if r.Err != nil {
			t.Fatalf("item %d: %v", i, r.Err)
		}
	}
	dec, err := c.Decrypt(context.Background(), &api.DecryptInput{CiphertextBlob: res[255].Out.CiphertextBlob})
	if err != nil || string(dec.Plaintext) != "batch item" {
		t.Fatalf("a batch item's blob: %v", err)
	}

	d.OK(t, "disconnect-custom-key-store", "--custom-key-store-id", store)
	if _, errs, code := decrypt(); code != 254 || !strings.Contains(errs, "KMSInvalidStateException") {
		t.Errorf("decrypt with the store disconnected: exit %d %s", code, errs)
	}
	if _, errs, code := d.Kmsctl(t, "delete-custom-key-store", "--custom-key-store-id", store); code != 254 || !strings.Contains(errs, "CustomKeyStoreHasCMKsException") {
		t.Errorf("deleting a store that holds a key: exit %d %s", code, errs)
	}
	d.OK(t, "connect-custom-key-store", "--custom-key-store-id", store)
	if err := d.Stop(); err != nil {
		t.Fatal(err)
	}
	d = testkit.Start(t, testkit.Config{Dir: dir})
	if got := d.OK(t, "describe-custom-key-stores", "--query", "CustomKeyStores[0].ConnectionState", "--output", "text"); got != "CONNECTED\n" {
		t.Errorf("after a restart: %q", got)
	}
	if out, _, code := decrypt(); code != 0 || out != "aW4gdGhlIEhTTQ==\n" {
		t.Errorf("decrypt after a restart: %q exit %d", out, code)
	}
	trail := d.OK(t, "audit", "query", "--operation", "CreateCustomKeyStore")
	if !strings.Contains(trail, `"pin_file":"`+h.PINFile+`"`) || strings.Contains(trail, h.PIN) {
		t.Errorf("the trail's CreateCustomKeyStore:\n%s", trail)
	}
	if strings.Contains(d.Log.String(), h.PIN) {
		t.Errorf("the PIN is in kmsd's log")
	}
}

// TestCustomKeyStoreWithoutCgo: kmsd built with CGO_ENABLED=0 builds and
// runs; a custom key store cannot connect, and says why.
func TestCustomKeyStoreWithoutCgo(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds kmsd again without cgo")
	}
	bin := filepath.Join(t.TempDir(), "kmsd-nocgo")
	build := exec.Command("go", "build", "-o", bin, "./cmd/kmsd")
	build.Dir = ".."
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("CGO_ENABLED=0 go build: %v\n%s", err, out)
	}
	dir := testkit.ShortDir(t)
	d, err := testkit.StartProcess(bin, testkit.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Stop()
	pin := filepath.Join(dir, "pin")
	os.WriteFile(pin, []byte("1234"), 0o600)
	var cs struct{ CustomKeyStoreId string }
	json.Unmarshal([]byte(d.OK(t, "create-custom-key-store", "--custom-key-store-name", "x", "--pkcs11-module", "/usr/lib/softhsm/libsofthsm2.so",
		"--token-label", "kmsd", "--key-store-password-file", pin)), &cs)
	d.OK(t, "connect-custom-key-store", "--custom-key-store-id", cs.CustomKeyStoreId)
	if got := d.OK(t, "describe-custom-key-stores", "--query", "CustomKeyStores[0].[ConnectionState,ConnectionErrorCode]", "--output", "text"); got != "FAILED\tINTERNAL_ERROR\n" {
		t.Errorf("describe: %q", got)
	}
	testkit.Eventually(t, "the log says kmsd was built without cgo", func() bool { return strings.Contains(d.Log.String(), "built without cgo") })
}
