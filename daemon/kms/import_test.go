package kms

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"hash"
	"os"
	"path/filepath"
	"testing"
	"time"

	"kmsd/keystore/kwp"
	"kmsd/wire/api"
)

// wrapFor wraps material as AWS's documentation has a user wrap it: RSA-OAEP
// with the algorithm's hash, or (RSA_AES_KEY_WRAP) an AES key under RSA-OAEP
// followed by the material under that key (RFC 5649).
func wrapFor(t *testing.T, params *api.GetParametersForImportOutput, alg string, material []byte) []byte {
	t.Helper()
	k, err := x509.ParsePKIXPublicKey(params.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pub := k.(*rsa.PublicKey)
	var h hash.Hash = sha256.New()
	if alg == api.WrapOAEPSHA1 || alg == api.WrapAESKeyWrapSHA1 {
		h = sha1.New()
	}
	switch alg {
	case api.WrapOAEPSHA1, api.WrapOAEPSHA256:
		ct, err := rsa.EncryptOAEP(h, rand.Reader, pub, material, nil)
		if err != nil {
			t.Fatal(err)
		}
		return ct
	}
	aesKey := make([]byte, 32)
	rand.Read(aesKey)
	head, err := rsa.EncryptOAEP(h, rand.Reader, pub, aesKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	tail, err := kwp.Wrap(aesKey, material)
	if err != nil {
		t.Fatal(err)
	}
	return append(head, tail...)
}

func externalKey(t *testing.T, s *Service) string {
	t.Helper()
	out, err := s.CreateKey(ctx, &api.CreateKeyInput{Origin: api.OriginExternal})
	if err != nil {
		t.Fatal(err)
	}
	return out.KeyMetadata.KeyId
}

func params(t *testing.T, s *Service, id, alg, spec string) *api.GetParametersForImportOutput {
	t.Helper()
	p, err := s.GetParametersForImport(ctx, &api.GetParametersForImportInput{KeyId: id, WrappingAlgorithm: alg, WrappingKeySpec: spec})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func importMaterial(s *Service, id string, p *api.GetParametersForImportOutput, wrapped []byte, validTo *time.Time) error {
	model := api.ExpirationDoesNotExpire
	if validTo != nil {
		model = api.ExpirationExpires
	}
	_, err := s.ImportKeyMaterial(ctx, &api.ImportKeyMaterialInput{KeyId: id, ImportToken: p.ImportToken,
		EncryptedKeyMaterial: wrapped, ExpirationModel: model, ValidTo: validTo})
	return err
}

// TestImportAlgorithms: material wrapped with each algorithm and spec
// AWS offers imports, and the key then encrypts and decrypts.
func TestImportAlgorithms(t *testing.T) {
	s, c := testService(t)
	for _, alg := range []string{api.WrapOAEPSHA1, api.WrapOAEPSHA256, api.WrapAESKeyWrapSHA1, api.WrapAESKeyWrapSHA256} {
		for _, spec := range []string{api.WrapRSA2048, api.WrapRSA3072} {
			id := externalKey(t, s)
			p := params(t, s, id, alg, spec)
			if !p.ParametersValidTo.Equal(c.Now().Add(24*time.Hour)) || p.KeyId != testARNPrefix+"key/"+id {
				t.Errorf("%s %s: parameters %s valid to %s", alg, spec, p.KeyId, p.ParametersValidTo)
			}
			material := make([]byte, 32)
			rand.Read(material)
			if err := importMaterial(s, id, p, wrapFor(t, p, alg, material), nil); err != nil {
				t.Fatalf("%s %s: %v", alg, spec, err)
			}
			md, _ := s.DescribeKey(ctx, &api.DescribeKeyInput{KeyId: id})
			if md.KeyMetadata.KeyState != api.KeyStateEnabled || md.KeyMetadata.ExpirationModel != api.ExpirationDoesNotExpire || md.KeyMetadata.ValidTo != nil {
				t.Errorf("%s %s: %+v", alg, spec, md.KeyMetadata)
			}
			blob := mustEncrypt(t, s, id, "imported", nil)
			if out, err := s.Decrypt(ctx, &api.DecryptInput{CiphertextBlob: blob}); err != nil || string(out.Plaintext) != "imported" {
				t.Errorf("%s %s: decrypt %v", alg, spec, err)
			}
		}
	}
}

// TestImportRefusals: each way an import fails, with AWS's exception.
func TestImportRefusals(t *testing.T) {
	s, c := testService(t)
	id, other := externalKey(t, s), externalKey(t, s)
	material := make([]byte, 32)
	rand.Read(material)
	p := params(t, s, id, api.WrapOAEPSHA256, api.WrapRSA2048)
	pOther := params(t, s, other, api.WrapOAEPSHA256, api.WrapRSA2048)
	tampered := bytes.Clone(p.ImportToken)
	tampered[len(tampered)-1] ^= 1
	for _, tc := range []struct {
		name string
		err  error
		code string
	}{
		{"a token for another key", importMaterial(s, id, pOther, wrapFor(t, pOther, api.WrapOAEPSHA256, material), nil), api.CodeInvalidImportToken},
		{"a changed token", importMaterial(s, id, &api.GetParametersForImportOutput{ImportToken: tampered}, wrapFor(t, p, api.WrapOAEPSHA256, material), nil), api.CodeInvalidImportToken},
		{"the wrong algorithm", importMaterial(s, id, p, wrapFor(t, p, api.WrapOAEPSHA1, material), nil), api.CodeInvalidCiphertext},
		{"16 bytes of material", importMaterial(s, id, p, wrapFor(t, p, api.WrapOAEPSHA256, material[:16]), nil), api.CodeIncorrectKeyMaterial},
		{"into an AWS_KMS key", importMaterial(s, mustKey(t, s), p, wrapFor(t, p, api.WrapOAEPSHA256, material), nil), api.CodeUnsupportedOperation},
	} {
		if got := api.CodeOf(tc.err); got != tc.code {
			t.Errorf("%s: %v, want %s", tc.name, tc.err, tc.code)
		}
	}
	if _, err := s.GetParametersForImport(ctx, &api.GetParametersForImportInput{KeyId: mustKey(t, s), WrappingAlgorithm: api.WrapOAEPSHA256, WrappingKeySpec: api.WrapRSA2048}); api.CodeOf(err) != api.CodeUnsupportedOperation {
		t.Errorf("parameters for an AWS_KMS key: %v", err)
	}
	for _, in := range []api.GetParametersForImportInput{{KeyId: id, WrappingAlgorithm: "RSAES_PKCS1_V1_5", WrappingKeySpec: api.WrapRSA2048},
		{KeyId: id, WrappingAlgorithm: api.WrapOAEPSHA256, WrappingKeySpec: "RSA_1024"}} {
		if _, err := s.GetParametersForImport(ctx, &in); api.CodeOf(err) != api.CodeValidation {
			t.Errorf("%+v: %v", in, err)
		}
	}
	_, err := s.ImportKeyMaterial(ctx, &api.ImportKeyMaterialInput{KeyId: id, ImportToken: p.ImportToken,
		EncryptedKeyMaterial: wrapFor(t, p, api.WrapOAEPSHA256, material), ExpirationModel: api.ExpirationDoesNotExpire, ImportType: "NEW_KEY_MATERIAL"})
	wantCode(t, err, api.CodeUnsupportedOperation) // rotation by import
	// The right import works once; the token is then spent.
	wrapped := wrapFor(t, p, api.WrapOAEPSHA256, material)
	wantCode(t, importMaterial(s, id, p, wrapped, nil), "")
	wantCode(t, importMaterial(s, id, p, wrapped, nil), api.CodeInvalidImportToken)
	// Another token: the same material again is taken, other material not.
	p2 := params(t, s, id, api.WrapOAEPSHA256, api.WrapRSA2048)
	wantCode(t, importMaterial(s, id, p2, wrapFor(t, p2, api.WrapOAEPSHA256, material), nil), "")
	p3 := params(t, s, id, api.WrapOAEPSHA256, api.WrapRSA2048)
	otherMaterial := make([]byte, 32)
	rand.Read(otherMaterial)
	wantCode(t, importMaterial(s, id, p3, wrapFor(t, p3, api.WrapOAEPSHA256, otherMaterial), nil), api.CodeIncorrectKeyMaterial)
	// A token expires after 24 hours.
	p4 := params(t, s, id, api.WrapOAEPSHA256, api.WrapRSA2048)
	c.Advance(24*time.Hour + time.Second)
	wantCode(t, importMaterial(s, id, p4, wrapFor(t, p4, api.WrapOAEPSHA256, material), nil), api.CodeExpiredImportToken)
	// ValidTo: required with KEY_MATERIAL_EXPIRES, in the next 365 days.
	p5 := params(t, s, id, api.WrapOAEPSHA256, api.WrapRSA2048)
	past, far := c.Now().Add(-time.Hour), c.Now().Add(400*24*time.Hour)
	for _, v := range []*time.Time{&past, &far} {
		wantCode(t, importMaterial(s, id, p5, wrapFor(t, p5, api.WrapOAEPSHA256, material), v), api.CodeValidation)
	}
	_, err = s.ImportKeyMaterial(ctx, &api.ImportKeyMaterialInput{KeyId: id, ImportToken: p5.ImportToken, EncryptedKeyMaterial: []byte("x")})
	wantCode(t, err, api.CodeValidation) // KEY_MATERIAL_EXPIRES (the default) without ValidTo
}

// TestImportedMaterialLifecycle: at ValidTo the material goes and the key
// is PendingImport; its blobs stay undecryptable until the same material
// comes back, and then decrypt. DeleteImportedKeyMaterial does the same
// on demand.
func TestImportedMaterialLifecycle(t *testing.T) {
	s, c := testService(t)
	id := externalKey(t, s)
	material := make([]byte, 32)
	rand.Read(material)
	validTo := c.Now().Add(time.Hour)
	p := params(t, s, id, api.WrapAESKeyWrapSHA256, api.WrapRSA2048)
	wantCode(t, importMaterial(s, id, p, wrapFor(t, p, api.WrapAESKeyWrapSHA256, material), &validTo), "")
	md, _ := s.DescribeKey(ctx, &api.DescribeKeyInput{KeyId: id})
	if md.KeyMetadata.ExpirationModel != api.ExpirationExpires || md.KeyMetadata.ValidTo == nil || !md.KeyMetadata.ValidTo.Equal(validTo) {
		t.Fatalf("metadata %+v", md.KeyMetadata)
	}
	blob := mustEncrypt(t, s, id, "before expiry", nil)
	c.Advance(30 * time.Minute)
	s.Tick()
	if _, err := s.Decrypt(ctx, &api.DecryptInput{CiphertextBlob: blob}); err != nil {
		t.Fatalf("before ValidTo: %v", err)
	}
	c.Advance(time.Hour)
	if err := s.Tick(); err != nil {
		t.Fatal(err)
	}
	md, _ = s.DescribeKey(ctx, &api.DescribeKeyInput{KeyId: id})
	if md.KeyMetadata.KeyState != api.KeyStatePendingImport || md.KeyMetadata.CurrentKeyMaterialId != "" {
		t.Fatalf("after ValidTo: %+v", md.KeyMetadata)
	}
	_, err := s.Decrypt(ctx, &api.DecryptInput{CiphertextBlob: blob})
	wantCode(t, err, api.CodeInvalidState)
	p2 := params(t, s, id, api.WrapOAEPSHA256, api.WrapRSA2048)
	wantCode(t, importMaterial(s, id, p2, wrapFor(t, p2, api.WrapOAEPSHA256, material), nil), "")
	if out, err := s.Decrypt(ctx, &api.DecryptInput{CiphertextBlob: blob}); err != nil || string(out.Plaintext) != "before expiry" {
		t.Fatalf("after the same material came back: %v", err)
	}
	out, err := s.DeleteImportedKeyMaterial(ctx, &api.DeleteImportedKeyMaterialInput{KeyId: id})
	if err != nil || out.KeyMaterialId == "" {
		t.Fatal(err)
	}
	_, err = s.Encrypt(ctx, &api.EncryptInput{KeyId: id, Plaintext: []byte("x")})
	wantCode(t, err, api.CodeInvalidState)
	_, err = s.RotateKeyOnDemand(ctx, &api.KeyIDInput{KeyId: id})
	wantCode(t, err, api.CodeUnsupportedOperation)
}

// TestImportExpiresAtStart: material whose ValidTo passed while kmsd was
// down is deleted when it starts; and neither the material nor the token's
// key is anywhere in the state directory.
func TestImportExpiresAtStart(t *testing.T) {
	dir := t.TempDir()
	c := newClock()
	s, err := openDir(t, dir, func(cfg *Config) { cfg.Now = c.Now })
	if err != nil {
		t.Fatal(err)
	}
	id := externalKey(t, s)
	material := make([]byte, 32)
	rand.Read(material)
	validTo := c.Now().Add(time.Hour)
	p := params(t, s, id, api.WrapOAEPSHA256, api.WrapRSA2048)
	wantCode(t, importMaterial(s, id, p, wrapFor(t, p, api.WrapOAEPSHA256, material), &validTo), "")
	s.Close()
	for _, f := range walkFiles(t, dir) {
		b, _ := os.ReadFile(f)
		for _, enc := range [][]byte{material, []byte(hex.EncodeToString(material)), []byte(base64.StdEncoding.EncodeToString(material))} {
			if bytes.Contains(b, enc) {
				t.Errorf("%s holds the imported material", f)
			}
		}
	}
	c.Advance(2 * time.Hour)
	s, err = openDir(t, dir, func(cfg *Config) { cfg.Now = c.Now })
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	md, _ := s.DescribeKey(ctx, &api.DescribeKeyInput{KeyId: id})
	if md.KeyMetadata.KeyState != api.KeyStatePendingImport {
		t.Errorf("after a restart past ValidTo: %s", md.KeyMetadata.KeyState)
	}
}

func walkFiles(t *testing.T, dir string) []string {
	var fs []string
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			fs = append(fs, p)
		}
		return nil
	})
	return fs
}
