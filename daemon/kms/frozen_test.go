package kms

import (
	"encoding/json"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"kmsd/wire/api"
)

var updateFrozenStore = flag.Bool("update-frozen-store", false, "rewrite testdata/store-v1 (only when the store format version changes)")

// frozenManifest describes testdata/store-v1: what a store written by
// store format 1 holds, so every later kmsd can check it still reads it.
type frozenManifest struct {
	Keys []struct {
		KeyId, KeyState, Description string
		Versions                     int
		Rotation                     bool
	}
	Aliases map[string]string // name -> key id
	Blobs   []struct {
		Context   map[string]string
		Plaintext string
		Blob      []byte
	}
}

// TestFrozenStore opens a copy of a state directory written by store
// format 1 and checks every key, alias and blob in its manifest. If it
// fails, the change broke users' state directories: fix the change.
func TestFrozenStore(t *testing.T) {
	if *updateFrozenStore {
		writeFrozenStore(t)
	}
	src := filepath.Join("testdata", "store-v1")
	var m frozenManifest
	b, err := os.ReadFile(filepath.Join(src, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	copyDir(t, src, dir)
	os.Chmod(filepath.Join(dir, "root-key"), 0o600) // git does not keep modes
	s, err := openDir(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.KeyCount() != len(m.Keys) || len(m.Keys) == 0 {
		t.Fatalf("%d keys, manifest has %d", s.KeyCount(), len(m.Keys))
	}
	for _, k := range m.Keys {
		md, err := s.DescribeKey(ctx, &api.DescribeKeyInput{KeyId: k.KeyId})
		if err != nil || md.KeyMetadata.KeyState != k.KeyState || md.KeyMetadata.Description != k.Description {
			t.Fatalf("key %s: %+v %v", k.KeyId, md, err)
		}
		if k.Versions == 0 { // imported-material key without material
			_, err := s.GetKeyRotationStatus(ctx, &api.KeyIDInput{KeyId: k.KeyId})
			wantCode(t, err, api.CodeUnsupportedOperation)
			continue
		}
		l, err := s.ListKeyRotations(ctx, &api.ListKeyRotationsInput{KeyId: k.KeyId, IncludeKeyMaterial: api.IncludeAllKeyMaterial})
		if err != nil {
			t.Fatal(err)
		}
		st, err := s.GetKeyRotationStatus(ctx, &api.KeyIDInput{KeyId: k.KeyId})
		if err != nil || len(l.Rotations) != k.Versions || st.KeyRotationEnabled != k.Rotation {
			t.Fatalf("key %s: %d versions, rotation %+v, %v", k.KeyId, len(l.Rotations), st, err)
		}
	}
	for name, id := range m.Aliases {
		md, err := s.DescribeKey(ctx, &api.DescribeKeyInput{KeyId: name})
		if err != nil || md.KeyMetadata.KeyId != id {
			t.Fatalf("alias %s: %v", name, err)
		}
	}
	if len(m.Blobs) == 0 {
		t.Fatal("no frozen blobs")
	}
	for i, fb := range m.Blobs {
		out, err := s.Decrypt(ctx, &api.DecryptInput{CiphertextBlob: fb.Blob, EncryptionContext: fb.Context})
		if err != nil || string(out.Plaintext) != fb.Plaintext {
			t.Fatalf("blob %d: %v", i, err)
		}
	}
}

func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o700)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func writeFrozenStore(t *testing.T) {
	dst := filepath.Join("testdata", "store-v1")
	os.RemoveAll(dst)
	s, err := openDir(t, dst)
	if err != nil {
		t.Fatal(err)
	}
	var m frozenManifest
	m.Aliases = map[string]string{}
	add := func(id, state, desc string, versions int, rotation bool) {
		m.Keys = append(m.Keys, struct {
			KeyId, KeyState, Description string
			Versions                     int
			Rotation                     bool
		}{id, state, desc, versions, rotation})
	}
	blob := func(id, pt string, ec map[string]string) {
		m.Blobs = append(m.Blobs, struct {
			Context   map[string]string
			Plaintext string
			Blob      []byte
		}{ec, pt, mustEncrypt(t, s, id, pt, ec)})
	}
	a, _ := s.CreateKey(ctx, &api.CreateKeyInput{Description: "rotated", Tags: []api.Tag{{TagKey: "env", TagValue: "frozen"}}})
	ida := a.KeyMetadata.KeyId
	blob(ida, "version 1", map[string]string{"purpose": "frozen"})
	s.RotateKeyOnDemand(ctx, &api.KeyIDInput{KeyId: ida})
	s.EnableKeyRotation(ctx, &api.EnableKeyRotationInput{KeyId: ida})
	blob(ida, "version 2", nil)
	s.CreateAlias(ctx, &api.AliasInput{AliasName: "alias/frozen", TargetKeyId: ida})
	m.Aliases["alias/frozen"] = ida
	add(ida, api.KeyStateEnabled, "rotated", 2, true)

	b, _ := s.CreateKey(ctx, &api.CreateKeyInput{Description: "plain"})
	blob(b.KeyMetadata.KeyId, "plain key", map[string]string{"a": "1", "b": "2"})
	add(b.KeyMetadata.KeyId, api.KeyStateEnabled, "plain", 1, false)

	ext, _ := s.CreateKey(ctx, &api.CreateKeyInput{Description: "external", Origin: api.OriginExternal})
	add(ext.KeyMetadata.KeyId, api.KeyStatePendingImport, "external", 0, false)
	s.Close()
	js, _ := json.MarshalIndent(m, "", "  ")
	if err := os.WriteFile(filepath.Join(dst, "manifest.json"), js, 0o644); err != nil {
		t.Fatal(err)
	}
}
