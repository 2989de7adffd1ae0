package kms

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"kmsd/daemon/policy"
	"kmsd/internal/softhsm"
	"kmsd/keystore"
	"kmsd/wire/api"
)

// storeIn creates a custom key store of token h.
func storeIn(t *testing.T, s *Service, h *softhsm.Token, name string) string {
	t.Helper()
	out, err := s.CreateCustomKeyStore(ctx, &api.CreateCustomKeyStoreInput{CustomKeyStoreName: name,
		Pkcs11Module: h.Module, TokenLabel: h.Label, KeyStorePasswordFile: h.PINFile})
	if err != nil {
		t.Fatal(err)
	}
	return out.CustomKeyStoreId
}

func storeState(t *testing.T, s *Service, id string) (state, code string) {
	t.Helper()
	out, err := s.DescribeCustomKeyStores(ctx, &api.DescribeCustomKeyStoresInput{CustomKeyStoreId: id})
	if err != nil || len(out.CustomKeyStores) != 1 {
		t.Fatalf("describe %s: %v", id, err)
	}
	return out.CustomKeyStores[0].ConnectionState, out.CustomKeyStores[0].ConnectionErrorCode
}

// TestCustomKeyStore: a key kept in a SoftHSM2 token is used by the token
// (AES-GCM in it, kmsd's blob format and context binding), is refused while
// its store is disconnected, and its store cannot be deleted while it
// exists; the store comes back connected after a restart.
func TestCustomKeyStore(t *testing.T) {
	h := softhsm.Require(t)
	dir := t.TempDir()
	s, err := openDir(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() }) // logs out of the token, whatever happens
	id := storeIn(t, s, h, "hsm")
	if st, _ := storeState(t, s, id); st != api.ConnectionDisconnected {
		t.Fatalf("a new store is %s", st)
	}
	_, err = s.CreateKey(ctx, &api.CreateKeyInput{CustomKeyStoreId: id})
	wantCode(t, err, api.CodeCustomKeyStoreState)
	wantCode(t, s.ConnectCustomKeyStore(ctx, &api.CustomKeyStoreIDInput{CustomKeyStoreId: id}), "")
	if st, code := storeState(t, s, id); st != api.ConnectionConnected || code != "" {
		t.Fatalf("connected store: %s %s", st, code)
	}
	out, err := s.CreateKey(ctx, &api.CreateKeyInput{CustomKeyStoreId: id})
	if err != nil {
		t.Fatal(err)
	}
	md := out.KeyMetadata
	if md.Origin != api.OriginHSM || md.CustomKeyStoreId != id || md.CloudHsmClusterId != h.Serial || md.KeyState != api.KeyStateEnabled {
		t.Fatalf("metadata %+v", md)
	}
	key := md.KeyId
	ec := map[string]string{"app": "hsm"}
	blob := mustEncrypt(t, s, key, "kept in the token", ec)
	if hdr, err := keystore.ParseBlobHeader(blob); err != nil || hdr.Alg != keystore.AlgHSMAES256GCM {
		t.Fatalf("blob header %+v %v", hdr, err)
	}
	dec, err := s.Decrypt(ctx, &api.DecryptInput{CiphertextBlob: blob, EncryptionContext: ec})
	if err != nil || string(dec.Plaintext) != "kept in the token" {
		t.Fatalf("decrypt: %v", err)
	}
	_, err = s.Decrypt(ctx, &api.DecryptInput{CiphertextBlob: blob, EncryptionContext: map[string]string{"app": "other"}})
	wantCode(t, err, api.CodeInvalidCiphertext)
	// A data key and a re-encryption to a kmsd key and back.
	dk, err := s.GenerateDataKey(ctx, &api.GenerateDataKeyInput{KeyId: key, KeySpec: "AES_256"})
	if err != nil {
		t.Fatal(err)
	}
	if d, err := s.Decrypt(ctx, &api.DecryptInput{CiphertextBlob: dk.CiphertextBlob}); err != nil || string(d.Plaintext) != string(dk.Plaintext) {
		t.Fatalf("data key: %v", err)
	}
	own := mustKey(t, s)
	re, err := s.ReEncrypt(ctx, &api.ReEncryptInput{CiphertextBlob: blob, SourceEncryptionContext: ec, DestinationKeyId: own})
	if err != nil {
		t.Fatal(err)
	}
	back, err := s.ReEncrypt(ctx, &api.ReEncryptInput{CiphertextBlob: re.CiphertextBlob, DestinationKeyId: key})
	if err != nil {
		t.Fatal(err)
	}
	if d, err := s.Decrypt(ctx, &api.DecryptInput{CiphertextBlob: back.CiphertextBlob}); err != nil || string(d.Plaintext) != "kept in the token" {
		t.Fatalf("re-encrypted back: %v", err)
	}
	_, err = s.RotateKeyOnDemand(ctx, &api.KeyIDInput{KeyId: key})
	wantCode(t, err, api.CodeUnsupportedOperation)
	// The material is in no file of the state directory: it never existed
	// in kmsd. (Nothing to grep for; the record has no versions.)
	kid, err := keystore.ParseKeyID(key)
	if err != nil {
		t.Fatal(err)
	}
	r := s.lookup(kid).rec
	if len(r.Versions) != 0 || r.CustomKeyStoreId != id {
		t.Errorf("the key record has %d versions, store %q", len(r.Versions), r.CustomKeyStoreId)
	}

	// Disconnected: the key is refused; the store cannot be deleted while
	// it holds a key, nor while connected.
	wantCode(t, s.DeleteCustomKeyStore(ctx, &api.CustomKeyStoreIDInput{CustomKeyStoreId: id}), api.CodeCustomKeyStoreState)
	wantCode(t, s.DisconnectCustomKeyStore(ctx, &api.CustomKeyStoreIDInput{CustomKeyStoreId: id}), "")
	_, err = s.Decrypt(ctx, &api.DecryptInput{CiphertextBlob: blob, EncryptionContext: ec})
	wantCode(t, err, api.CodeInvalidState)
	_, err = s.Encrypt(ctx, &api.EncryptInput{KeyId: key, Plaintext: []byte("x")})
	wantCode(t, err, api.CodeInvalidState)
	wantCode(t, s.DeleteCustomKeyStore(ctx, &api.CustomKeyStoreIDInput{CustomKeyStoreId: id}), api.CodeCustomKeyStoreHasKeys)
	wantCode(t, s.UpdateCustomKeyStore(ctx, &api.UpdateCustomKeyStoreInput{CustomKeyStoreId: id, NewCustomKeyStoreName: "renamed"}), "")

	// Connected again, it survives a restart connected.
	wantCode(t, s.ConnectCustomKeyStore(ctx, &api.CustomKeyStoreIDInput{CustomKeyStoreId: id}), "")
	s.Close()
	s, err = openDir(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := storeState(t, s, id); st != api.ConnectionConnected {
		t.Fatalf("after a restart: %s", st)
	}
	if dec, err := s.Decrypt(ctx, &api.DecryptInput{CiphertextBlob: blob, EncryptionContext: ec}); err != nil || string(dec.Plaintext) != "kept in the token" {
		t.Fatalf("after a restart: %v", err)
	}
}

// TestCustomKeyStoreRefusals: a wrong PIN, a missing token, a PIN file
// others can read, names in use, and callers other than root.
func TestCustomKeyStoreRefusals(t *testing.T) {
	h := softhsm.Require(t)
	s, _ := testService(t)
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad-pin")
	os.WriteFile(bad, []byte("0000"), 0o600)
	open := filepath.Join(dir, "open-pin")
	os.WriteFile(open, []byte(h.PIN), 0o644)
	for _, tc := range []struct {
		name, label, pin, code string
	}{
		{"wrong PIN", h.Label, bad, api.ConnectionErrInvalidCredentials},
		{"no such token", "absent-token", h.PINFile, api.ConnectionErrNotFound},
	} {
		out, err := s.CreateCustomKeyStore(ctx, &api.CreateCustomKeyStoreInput{CustomKeyStoreName: tc.name,
			Pkcs11Module: h.Module, TokenLabel: tc.label, KeyStorePasswordFile: tc.pin})
		if err != nil {
			t.Fatal(err)
		}
		wantCode(t, s.ConnectCustomKeyStore(ctx, &api.CustomKeyStoreIDInput{CustomKeyStoreId: out.CustomKeyStoreId}), "")
		if st, code := storeState(t, s, out.CustomKeyStoreId); st != api.ConnectionFailed || code != tc.code {
			t.Errorf("%s: %s %s, want FAILED %s", tc.name, st, code, tc.code)
		}
		// the reason is in the description, not only in kmsd's log
		d, err := s.DescribeCustomKeyStores(ctx, &api.DescribeCustomKeyStoresInput{CustomKeyStoreId: out.CustomKeyStoreId})
		if err != nil || len(d.CustomKeyStores) != 1 || d.CustomKeyStores[0].ConnectionErrorReason == "" {
			t.Errorf("%s: no reason in DescribeCustomKeyStores: %+v %v", tc.name, d, err)
		} else if r := d.CustomKeyStores[0].ConnectionErrorReason; strings.Contains(r, h.PIN) || strings.Contains(r, "0000") {
			t.Errorf("%s: the reason names a PIN: %s", tc.name, r)
		}
	}
	// What is not there, or not to be trusted, is refused when the store
	// is made, with the reason in the answer.
	for _, tc := range []struct {
		name, module, pin, code, reason string
	}{
		{"no such module", "/usr/lib/no-such-pkcs11.so", h.PINFile, api.CodeCloudHsmClusterNotFound, "no-such-pkcs11.so"},
		{"no PIN file", h.Module, filepath.Join(dir, "absent-pin"), api.CodeValidation, "no such file"},
		{"a PIN file others can read", h.Module, open, api.CodeValidation, "readable by others"},
	} {
		_, err := s.CreateCustomKeyStore(ctx, &api.CreateCustomKeyStoreInput{CustomKeyStoreName: tc.name,
			Pkcs11Module: tc.module, TokenLabel: h.Label, KeyStorePasswordFile: tc.pin})
		wantCode(t, err, tc.code)
		if err == nil || !strings.Contains(err.Error(), tc.reason) {
			t.Errorf("%s: %v, want the reason %q", tc.name, err, tc.reason)
		}
	}
	if d, _ := s.DescribeCustomKeyStores(ctx, &api.DescribeCustomKeyStoresInput{}); len(d.CustomKeyStores) != 2 {
		t.Errorf("refused stores were kept: %+v", d.CustomKeyStores)
	}
	_, err := s.CreateCustomKeyStore(ctx, &api.CreateCustomKeyStoreInput{CustomKeyStoreName: "wrong PIN",
		Pkcs11Module: h.Module, TokenLabel: h.Label, KeyStorePasswordFile: h.PINFile})
	wantCode(t, err, api.CodeCustomKeyStoreName)
	_, err = s.CreateCustomKeyStore(ctx, &api.CreateCustomKeyStoreInput{CustomKeyStoreName: "inline",
		Pkcs11Module: h.Module, TokenLabel: h.Label, KeyStorePasswordFile: "1234"})
	wantCode(t, err, api.CodeValidation) // a PIN is never given inline
	_, err = s.DescribeCustomKeyStores(ctx, &api.DescribeCustomKeyStoresInput{CustomKeyStoreId: "cks-00000000000000000"})
	wantCode(t, err, api.CodeCustomKeyStoreMissing)
	_, err = s.CreateCustomKeyStore(as(&policy.Principal{UID: 1000, GID: 1000, Source: "test"}), &api.CreateCustomKeyStoreInput{CustomKeyStoreName: "user",
		Pkcs11Module: h.Module, TokenLabel: h.Label, KeyStorePasswordFile: h.PINFile})
	wantCode(t, err, api.CodeAccessDenied)
}

// TestAdminIsNotRoot: a member of the admin group may not name the
// PKCS#11 module kmsd loads (its constructor would run as kmsd, as root),
// neither creating a store nor changing one; and no one may name a module
// someone other than root could have written, as root neither.
func TestAdminIsNotRoot(t *testing.T) {
	h := softhsm.Require(t)
	s := authService(t)
	id := storeIn(t, s, h, "root's")
	admin := as(&policy.Principal{UID: 1002, GID: 1002, Groups: []uint32{500}, Source: "test"})
	if !s.IsAdmin(admin) {
		t.Fatal("the test's admin is not in the admin group")
	}
	_, err := s.CreateCustomKeyStore(admin, &api.CreateCustomKeyStoreInput{CustomKeyStoreName: "admin's",
		Pkcs11Module: h.Module, TokenLabel: h.Label, KeyStorePasswordFile: h.PINFile})
	wantCode(t, err, api.CodeAccessDenied)
	wantCode(t, s.UpdateCustomKeyStore(admin, &api.UpdateCustomKeyStoreInput{CustomKeyStoreId: id, Pkcs11Module: h.Module}), api.CodeAccessDenied)
	// what does not name a module stays the admin group's
	wantCode(t, s.UpdateCustomKeyStore(admin, &api.UpdateCustomKeyStoreInput{CustomKeyStoreId: id, NewCustomKeyStoreName: "renamed"}), "")

	planted := filepath.Join(t.TempDir(), "libevil.so") // /tmp: anyone could have put it there
	if err := os.WriteFile(planted, []byte("not a module"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err = s.CreateCustomKeyStore(ctx, &api.CreateCustomKeyStoreInput{CustomKeyStoreName: "planted",
		Pkcs11Module: planted, TokenLabel: h.Label, KeyStorePasswordFile: h.PINFile})
	wantCode(t, err, api.CodeValidation)
	wantCode(t, s.UpdateCustomKeyStore(ctx, &api.UpdateCustomKeyStoreInput{CustomKeyStoreId: id, Pkcs11Module: planted}), api.CodeValidation)
}
