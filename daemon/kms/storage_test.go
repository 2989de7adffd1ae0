package kms

import (
	"bytes"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"kmsd/keystore"
	"kmsd/keystore/xaes"
	"kmsd/wire/api"
)

// unsealByTheDocs opens a sealed version exactly as docs/storage-format.md
// describes, without the keystore package: HKDF-SHA256 of the root key
// with info "kmsd/v1/seal" is an XAES-256-GCM key; a sealed record is
// 0x01 | nonce (24) | ciphertext | tag, with additional data
// "kmsd/v1/key-material" | key id | version (big-endian).
func unsealByTheDocs(t *testing.T, root []byte, id keystore.KeyID, v uint32, sealed []byte) []byte {
	t.Helper()
	k, err := hkdf.Key(sha256.New, root, nil, "kmsd/v1/seal", 32)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := xaes.New(k)
	aad := append([]byte("kmsd/v1/key-material"), id[:]...)
	aad = binary.BigEndian.AppendUint32(aad, v)
	if sealed[0] != 0x01 {
		t.Fatalf("sealed format %x", sealed[0])
	}
	raw, err := a.Open(nil, sealed[1:25], sealed[25:], aad)
	if err != nil {
		t.Fatalf("unseal by the docs: %v", err)
	}
	return raw
}

// TestStateHoldsNoSecrets creates keys, rotates them, makes data keys and
// encrypts, closes the service, then searches every byte of every file in
// the state directory except the root key file for each version's raw
// material, the root key, the data keys and the plaintexts, raw, in hex
// and in base64.
func TestStateHoldsNoSecrets(t *testing.T) {
	dir := t.TempDir()
	s, err := openDir(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	var secrets [][]byte
	var ids []string
	for range 3 {
		id := mustKey(t, s)
		ids = append(ids, id)
		for range 2 {
			if _, err := s.RotateKeyOnDemand(ctx, &api.KeyIDInput{KeyId: id}); err != nil {
				t.Fatal(err)
			}
		}
		dk, err := s.GenerateDataKey(ctx, &api.GenerateDataKeyInput{KeyId: id, KeySpec: api.DataKeySpecAES256})
		if err != nil {
			t.Fatal(err)
		}
		secrets = append(secrets, dk.Plaintext)
		pt := make([]byte, 48)
		rand.Read(pt)
		mustEncrypt(t, s, id, string(pt), nil)
		secrets = append(secrets, pt)
	}
	root, err := os.ReadFile(filepath.Join(dir, "root-key"))
	if err != nil {
		t.Fatal(err)
	}
	secrets = append(secrets, root)
	for _, id := range ids {
		e := s.lookup(mustParse(t, id))
		for _, v := range e.rec.Versions {
			raw := unsealByTheDocs(t, root, e.id, v.Version, v.Sealed)
			// Prove it is the real material: it opens a blob of that version.
			m, err := keystore.NewMaterial(v.Version, raw)
			if err != nil {
				t.Fatal(err)
			}
			mat, _ := e.material(s.root(), v.Version)
			blob, _ := keystore.SealBlob(nil, mat, s.suite, e.id, nil, []byte("probe"))
			if _, err := keystore.OpenBlob(nil, m, e.id, nil, blob); err != nil {
				t.Fatalf("material unsealed by the docs does not match version %d: %v", v.Version, err)
			}
			secrets = append(secrets, raw)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if len(secrets) != 3*2+1+9 {
		t.Fatalf("%d secrets", len(secrets))
	}
	found, files := scanForSecrets(t, dir, filepath.Join(dir, "root-key"), secrets)
	for _, f := range found {
		t.Error(f)
	}
	if files < 2 {
		t.Fatalf("walked only %d files", files)
	}
}

// scanForSecrets searches every file under dir but skip for each secret,
// raw, in hex, in base64 (standard and raw URL) and its first 16 bytes.
func scanForSecrets(t *testing.T, dir, skip string, secrets [][]byte) (found []string, files int) {
	t.Helper()
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || path == skip {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		for i, sec := range secrets {
			for j, f := range [][]byte{sec, []byte(hex.EncodeToString(sec)), []byte(base64.StdEncoding.EncodeToString(sec)),
				[]byte(base64.RawURLEncoding.EncodeToString(sec)), sec[:16]} {
				if bytes.Contains(b, f) {
					found = append(found, fmt.Sprintf("%s holds secret %d (form %d)", path, i, j))
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found, files
}

// TestScanFindsPlantedSecrets shows the scan above can fail.
func TestScanFindsPlantedSecrets(t *testing.T) {
	dir := t.TempDir()
	sec := []byte("0123456789abcdef0123456789abcdef")
	os.WriteFile(filepath.Join(dir, "a"), append([]byte("xx"), sec...), 0o600)
	os.WriteFile(filepath.Join(dir, "b"), []byte(base64.StdEncoding.EncodeToString(sec)), 0o600)
	os.WriteFile(filepath.Join(dir, "skip"), sec, 0o600)
	found, files := scanForSecrets(t, dir, filepath.Join(dir, "skip"), [][]byte{sec})
	if files != 2 || len(found) < 2 {
		t.Fatalf("found %v in %d files", found, files)
	}
}

func TestReopenKeepsEverything(t *testing.T) {
	dir := t.TempDir()
	c := newClock()
	withClock := func(cfg *Config) { cfg.Now = c.Now }
	s, err := openDir(t, dir, withClock)
	if err != nil {
		t.Fatal(err)
	}
	id := mustKey(t, s)
	s.TagResource(ctx, &api.TagResourceInput{KeyId: id, Tags: []api.Tag{{TagKey: "env", TagValue: "prod"}}})
	s.CreateAlias(ctx, &api.AliasInput{AliasName: "alias/keep", TargetKeyId: id})
	s.EnableKeyRotation(ctx, &api.EnableKeyRotationInput{KeyId: id, RotationPeriodInDays: api.Int32(100)})
	b1 := mustEncrypt(t, s, id, "one", map[string]string{"k": "v"})
	s.RotateKeyOnDemand(ctx, &api.KeyIDInput{KeyId: id})
	b2 := mustEncrypt(t, s, "alias/keep", "two", nil)
	doomed := mustKey(t, s)
	s.ScheduleKeyDeletion(ctx, &api.ScheduleKeyDeletionInput{KeyId: doomed, PendingWindowInDays: api.Int32(7)})

	_, err = openDir(t, dir, withClock)
	if !errors.Is(err, keystore.ErrLocked) || !strings.Contains(err.Error(), "in use by another kmsd") {
		t.Fatalf("second open while the first is live: %v", err)
	}
	s.Close()

	s, err = openDir(t, dir, withClock)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if n := s.KeyCount(); n != 2 {
		t.Fatalf("%d keys after reopen", n)
	}
	tags, _ := s.ListResourceTags(ctx, &api.ListResourceTagsInput{KeyId: id})
	st, _ := s.GetKeyRotationStatus(ctx, &api.KeyIDInput{KeyId: id})
	md, _ := s.DescribeKey(ctx, &api.DescribeKeyInput{KeyId: "alias/keep"})
	dm, _ := s.DescribeKey(ctx, &api.DescribeKeyInput{KeyId: doomed})
	if len(tags.Tags) != 1 || !st.KeyRotationEnabled || st.RotationPeriodInDays == nil || *st.RotationPeriodInDays != 100 || md.KeyMetadata.KeyId != id ||
		dm.KeyMetadata.KeyState != api.KeyStatePendingDeletion {
		t.Fatalf("after reopen: tags %v status %+v md %+v doomed %s", tags.Tags, st, md.KeyMetadata, dm.KeyMetadata.KeyState)
	}
	for want, b := range map[string][]byte{"one": b1, "two": b2} {
		var ec map[string]string
		if want == "one" {
			ec = map[string]string{"k": "v"}
		}
		out, err := s.Decrypt(ctx, &api.DecryptInput{CiphertextBlob: b, EncryptionContext: ec})
		if err != nil || string(out.Plaintext) != want {
			t.Fatalf("%s: %v", want, err)
		}
	}
	c.Advance(8 * day)
	s.Tick()
	if s.KeyCount() != 1 {
		t.Fatal("deletion scheduled before the restart did not happen after it")
	}
}
