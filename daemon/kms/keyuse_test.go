package kms

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"math/big"
	"testing"

	"kmsd/daemon/policy"
	"kmsd/keystore"
	"kmsd/wire/api"
)

func specKey(t testing.TB, s *Service, c context.Context, spec, usage string) *api.KeyMetadata {
	t.Helper()
	out, err := s.CreateKey(c, &api.CreateKeyInput{KeySpec: spec, KeyUsage: usage})
	if err != nil {
		t.Fatalf("%s %s: %v", spec, usage, err)
	}
	return &out.KeyMetadata
}

// TestDescribeKeySpecs: each spec and usage shows AWS's algorithm lists,
// and only the list of its usage.
func TestDescribeKeySpecs(t *testing.T) {
	s, _ := testService(t)
	for _, c := range []struct {
		spec, usage                string
		enc, sign, mac, agreements []string
	}{
		{"SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT", []string{"SYMMETRIC_DEFAULT"}, nil, nil, nil},
		{"RSA_2048", "ENCRYPT_DECRYPT", []string{"RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"}, nil, nil, nil},
		{"RSA_4096", "SIGN_VERIFY", nil, []string{"RSASSA_PSS_SHA_256", "RSASSA_PSS_SHA_384", "RSASSA_PSS_SHA_512", "RSASSA_PKCS1_V1_5_SHA_256", "RSASSA_PKCS1_V1_5_SHA_384", "RSASSA_PKCS1_V1_5_SHA_512"}, nil, nil},
		{"ECC_NIST_P384", "SIGN_VERIFY", nil, []string{"ECDSA_SHA_384"}, nil, nil},
		{"ECC_NIST_P521", "KEY_AGREEMENT", nil, nil, nil, []string{"ECDH"}},
		{"ECC_SECG_P256K1", "SIGN_VERIFY", nil, []string{"ECDSA_SHA_256"}, nil, nil},
		{"HMAC_384", "GENERATE_VERIFY_MAC", nil, nil, []string{"HMAC_SHA_384"}, nil},
		{"ML_DSA_87", "SIGN_VERIFY", nil, []string{"ML_DSA_SHAKE_256"}, nil, nil},
	} {
		md := specKey(t, s, ctx, c.spec, c.usage)
		got := fmt.Sprint(md.KeySpec, md.KeyUsage, md.EncryptionAlgorithms, md.SigningAlgorithms, md.MacAlgorithms, md.KeyAgreementAlgorithms, md.KeyState)
		want := fmt.Sprint(c.spec, c.usage, c.enc, c.sign, c.mac, c.agreements, "Enabled")
		if got != want {
			t.Errorf("%s %s: %s, want %s", c.spec, c.usage, got, want)
		}
	}
}

// TestVerifyHostileSignatures: Wycheproof's kinds of bad ECDSA signature
// (truncated, padded, BER lengths, values out of range, r or s zero or
// negative) are KMSInvalidSignatureException, never a panic; s and n-s
// both verify, as ECDSA defines it and as OpenSSL and AWS accept.
func TestVerifyHostileSignatures(t *testing.T) {
	s, _ := testService(t)
	md := specKey(t, s, ctx, "ECC_NIST_P256", "SIGN_VERIFY")
	msg := []byte("hostile")
	sig, err := s.Sign(ctx, &api.SignInput{KeyId: md.KeyId, Message: msg, SigningAlgorithm: "ECDSA_SHA_256"})
	if err != nil {
		t.Fatal(err)
	}
	var rs struct{ R, S *big.Int }
	if _, err := asn1.Unmarshal(sig.Signature, &rs); err != nil {
		t.Fatalf("kmsd's signature is not DER: %v", err)
	}
	n := elliptic.P256().Params().N
	der := func(r, s *big.Int) []byte { b, _ := asn1.Marshal(struct{ R, S *big.Int }{r, s}); return b }
	verify := func(sig []byte) error {
		_, err := s.Verify(ctx, &api.VerifyInput{KeyId: md.KeyId, Message: msg, Signature: sig, SigningAlgorithm: "ECDSA_SHA_256"})
		return err
	}
	wantCode(t, verify(sig.Signature), "")
	wantCode(t, verify(der(rs.R, new(big.Int).Sub(n, rs.S))), "") // the other s: valid ECDSA
	good := sig.Signature
	long := append([]byte{0x30, 0x81, byte(len(good) - 2)}, good[2:]...) // BER long-form length
	for name, bad := range map[string][]byte{
		"truncated":       good[:len(good)-1],
		"trailing byte":   append(bytes.Clone(good), 0),
		"long-form len":   long,
		"empty sequence":  {0x30, 0},
		"not a sequence":  append([]byte{0x31}, good[1:]...),
		"s plus n":        der(rs.R, new(big.Int).Add(rs.S, n)),
		"r plus n":        der(new(big.Int).Add(rs.R, n), rs.S),
		"s is n":          der(rs.R, n),
		"r is zero":       der(big.NewInt(0), rs.S),
		"s is zero":       der(rs.R, big.NewInt(0)),
		"negative s":      der(rs.R, new(big.Int).Neg(rs.S)),
		"swapped":         der(rs.S, rs.R),
		"one bit flipped": func() []byte { b := bytes.Clone(good); b[len(b)-1] ^= 1; return b }(),
		"raw r||s":        append(rs.R.FillBytes(make([]byte, 32)), rs.S.FillBytes(make([]byte, 32))...),
	} {
		if err := verify(bad); api.CodeOf(err) != api.CodeInvalidSignature {
			t.Errorf("%s: %v, want %s", name, err, api.CodeInvalidSignature)
		}
	}
	wantCode(t, verify(nil), api.CodeValidation)
	wantCode(t, verify(make([]byte, 6145)), api.CodeValidation)
}

// TestSigningConditions: a policy's kms:SigningAlgorithm and kms:KeySpec
// conditions are the request's algorithm and the key's spec.
func TestSigningConditions(t *testing.T) {
	s := authService(t)
	md := specKey(t, s, alice, "RSA_2048", "SIGN_VERIFY")
	pol := `{"Version":"2012-10-17","Statement":[
 {"Effect":"Allow","Principal":{"Kmsd":"uid:1000"},"Action":"kms:*","Resource":"*"},
 {"Effect":"Allow","Principal":{"Kmsd":"uid:1001"},"Action":["kms:Sign","kms:DescribeKey"],"Resource":"*",
  "Condition":{"StringEquals":{"kms:SigningAlgorithm":"RSASSA_PSS_SHA_256","kms:KeySpec":"RSA_2048"}}},
 {"Effect":"Deny","Principal":{"Kmsd":"uid:1001"},"Action":"kms:Sign","Resource":"*",
  "Condition":{"StringLike":{"kms:SigningAlgorithm":"*_512"}}},
 {"Effect":"Deny","Principal":{"Kmsd":"uid:1001"},"Action":"kms:Sign","Resource":"*",
  "Condition":{"StringEquals":{"kms:MessageType":"DIGEST"}}}]}`
	if err := s.PutKeyPolicy(alice, &api.PutKeyPolicyInput{KeyId: md.KeyId, Policy: pol}); err != nil {
		t.Fatal(err)
	}
	sign := func(c context.Context, alg string) error {
		_, err := s.Sign(c, &api.SignInput{KeyId: md.KeyId, Message: []byte("m"), SigningAlgorithm: alg})
		return err
	}
	wantCode(t, sign(bob, "RSASSA_PSS_SHA_256"), "")
	wantCode(t, sign(bob, "RSASSA_PKCS1_V1_5_SHA_256"), api.CodeAccessDenied)
	wantCode(t, sign(bob, "RSASSA_PSS_SHA_512"), api.CodeAccessDenied)
	wantCode(t, sign(alice, "RSASSA_PSS_SHA_512"), "")
	digest := sha256.Sum256([]byte("m"))
	_, err := s.Sign(bob, &api.SignInput{KeyId: md.KeyId, Message: digest[:], MessageType: "DIGEST", SigningAlgorithm: "RSASSA_PSS_SHA_256"})
	wantCode(t, err, api.CodeAccessDenied) // kms:MessageType DIGEST is denied to bob
	_, err = s.Sign(bob, &api.SignInput{KeyId: md.KeyId, Message: []byte("m"), MessageType: "RAW", SigningAlgorithm: "RSASSA_PSS_SHA_256"})
	wantCode(t, err, "")
	if _, err := policy.Compile(`{"Statement":[{"Effect":"Allow","Principal":"*","Action":"kms:Sign","Resource":"*",
	  "Condition":{"ForAnyValue:StringEquals":{"kms:SigningAlgorithm":["x"]}}}]}`, nil); err == nil {
		t.Error("a set qualifier on a single-valued key compiled")
	}
	// Root manages every customer key, but signs only as the policy says.
	root := as(&policy.Principal{UID: 0, Source: "test"})
	wantCode(t, sign(root, "RSASSA_PSS_SHA_256"), api.CodeAccessDenied)
}

// TestDisabledKeyRefusesSigning: a key disabled between two requests of
// one batch is refused from then on; the material is wiped and unsealed
// again once it is enabled.
func TestDisabledKeyRefusesSigning(t *testing.T) {
	s, _ := testService(t)
	md := specKey(t, s, ctx, "ECC_NIST_P256", "SIGN_VERIFY")
	in := &api.SignInput{KeyId: md.KeyId, Message: []byte("m"), SigningAlgorithm: "ECDSA_SHA_256"}
	if _, err := s.Sign(ctx, in); err != nil {
		t.Fatal(err)
	}
	e := s.lookup(mustParse(t, md.KeyId))
	if e.private.Load() == nil {
		t.Fatal("the key's material was not kept unsealed")
	}
	wantCode(t, s.DisableKey(ctx, &api.KeyIDInput{KeyId: md.KeyId}), "")
	if e.private.Load() != nil {
		t.Fatal("a disabled key's material stays unsealed")
	}
	_, err := s.Sign(ctx, in)
	wantCode(t, err, api.CodeDisabled)
	wantCode(t, s.EnableKey(ctx, &api.KeyIDInput{KeyId: md.KeyId}), "")
	if _, err := s.Sign(ctx, in); err != nil {
		t.Fatal(err)
	}
}

// TestSealedUnderRootKey: a private key is stored in format 2 under the
// root key, never in clear, and a service opened again on the same store
// signs with the same key.
func TestSealedUnderRootKey(t *testing.T) {
	s, _ := testService(t)
	md := specKey(t, s, ctx, "ECC_NIST_P256", "SIGN_VERIFY")
	pk, err := s.GetPublicKey(ctx, &api.GetPublicKeyInput{KeyId: md.KeyId})
	if err != nil {
		t.Fatal(err)
	}
	e := s.lookup(mustParse(t, md.KeyId))
	e.mu.RLock()
	sealed := e.rec.Versions[0].Sealed
	e.mu.RUnlock()
	if sealed[0] != 0x02 {
		t.Fatalf("sealed format %#x, want 2", sealed[0])
	}
	priv, err := s.root().UnsealKey(e.id, 1, sealed)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, priv[len(priv)-40:]) {
		t.Fatal("the sealed record holds the private key")
	}
	key, err := x509.ParsePKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(&key.(*ecdsa.PrivateKey).PublicKey)
	if !bytes.Equal(der, pk.PublicKey) {
		t.Fatal("the sealed private key is not GetPublicKey's pair")
	}
	sig, err := s.Sign(ctx, &api.SignInput{KeyId: md.KeyId, Message: []byte("m"), SigningAlgorithm: "ECDSA_SHA_256"})
	if err != nil {
		t.Fatal(err)
	}
	d := sha256.Sum256([]byte("m"))
	if !ecdsa.VerifyASN1(&key.(*ecdsa.PrivateKey).PublicKey, d[:], sig.Signature) {
		t.Fatal("the signature is not the sealed key's")
	}
}

// TestImportAsymmetricMaterial: an EXTERNAL ECC key takes a PKCS#8 key of
// its curve, signs with it, and refuses another curve's.
func TestImportAsymmetricMaterial(t *testing.T) {
	s, _ := testService(t)
	out, err := s.CreateKey(ctx, &api.CreateKeyInput{KeySpec: "ECC_NIST_P256", KeyUsage: "SIGN_VERIFY", Origin: api.OriginExternal})
	if err != nil || out.KeyMetadata.KeyState != api.KeyStatePendingImport {
		t.Fatalf("%+v %v", out, err)
	}
	id := out.KeyMetadata.KeyId
	_, err = s.Sign(ctx, &api.SignInput{KeyId: id, Message: []byte("m"), SigningAlgorithm: "ECDSA_SHA_256"})
	wantCode(t, err, api.CodeInvalidState)
	other, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	otherDER, _ := x509.MarshalPKCS8PrivateKey(other)
	p := params(t, s, id, api.WrapAESKeyWrapSHA256, api.WrapRSA2048)
	wantCode(t, importMaterial(s, id, p, wrapFor(t, p, api.WrapAESKeyWrapSHA256, otherDER), nil), api.CodeIncorrectKeyMaterial)
	mine, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	mineDER, _ := x509.MarshalPKCS8PrivateKey(mine)
	p = params(t, s, id, api.WrapAESKeyWrapSHA256, api.WrapRSA2048)
	if err := importMaterial(s, id, p, wrapFor(t, p, api.WrapAESKeyWrapSHA256, mineDER), nil); err != nil {
		t.Fatal(err)
	}
	sig, err := s.Sign(ctx, &api.SignInput{KeyId: id, Message: []byte("m"), SigningAlgorithm: "ECDSA_SHA_256"})
	if err != nil {
		t.Fatal(err)
	}
	d := sha256.Sum256([]byte("m"))
	if !ecdsa.VerifyASN1(&mine.PublicKey, d[:], sig.Signature) {
		t.Fatal("the key does not sign with the imported material")
	}
	e := s.lookup(mustParse(t, id))
	if e.rec.Versions[0].Sealed[0] != 0x02 || len(e.rec.Versions[0].Sealed) > 1+24+keystore.MaxKeyMaterial+16 {
		t.Fatal("imported material is not sealed in format 2")
	}
}

// TestUpdateAliasKeepsType: an alias moves between keys of one type and
// usage only, as in AWS.
func TestUpdateAliasKeepsType(t *testing.T) {
	s, _ := testService(t)
	sym := mustKey(t, s)
	sign1 := specKey(t, s, ctx, "ECC_NIST_P256", "SIGN_VERIFY").KeyId
	sign2 := specKey(t, s, ctx, "RSA_2048", "SIGN_VERIFY").KeyId
	enc := specKey(t, s, ctx, "RSA_2048", "ENCRYPT_DECRYPT").KeyId
	mac := specKey(t, s, ctx, "HMAC_256", "GENERATE_VERIFY_MAC").KeyId
	wantCode(t, s.CreateAlias(ctx, &api.AliasInput{AliasName: "alias/signer", TargetKeyId: sign1}), "")
	wantCode(t, s.UpdateAlias(ctx, &api.AliasInput{AliasName: "alias/signer", TargetKeyId: sign2}), "")
	for _, other := range []string{sym, enc, mac} {
		wantCode(t, s.UpdateAlias(ctx, &api.AliasInput{AliasName: "alias/signer", TargetKeyId: other}), api.CodeValidation)
	}
	out, err := s.Sign(ctx, &api.SignInput{KeyId: "alias/signer", Message: []byte("m"), SigningAlgorithm: "RSASSA_PSS_SHA_256"})
	if err != nil || len(out.Signature) != 256 {
		t.Fatalf("signing through the alias: %v", err)
	}
}

// TestDryRunChangesNothing: DryRun answers DryRunOperationException when
// the request would succeed, the real refusal when it would not, and
// leaves the grant, the key's use and the key as they were.
func TestDryRunChangesNothing(t *testing.T) {
	s, _ := testService(t)
	id := mustKey(t, s)
	g, err := s.CreateGrant(ctx, &api.CreateGrantInput{KeyId: id, GranteePrincipal: "uid:1000", Operations: []string{"Encrypt"}})
	if err != nil {
		t.Fatal(err)
	}
	wantCode(t, s.RetireGrant(ctx, &api.RetireGrantInput{GrantToken: g.GrantToken, DryRun: true}), api.CodeDryRunOperation)
	wantCode(t, s.RevokeGrant(ctx, &api.RevokeGrantInput{KeyId: id, GrantId: g.GrantId, DryRun: true}), api.CodeDryRunOperation)
	wantCode(t, s.RevokeGrant(ctx, &api.RevokeGrantInput{KeyId: id, GrantId: "0000", DryRun: true}), api.CodeInvalidGrantID)
	if l, err := s.ListGrants(ctx, &api.ListGrantsInput{KeyId: id}); err != nil || len(l.Grants) != 1 {
		t.Fatalf("a dry run removed the grant: %v %v", l, err)
	}
	_, err = s.CreateGrant(ctx, &api.CreateGrantInput{KeyId: id, GranteePrincipal: "uid:1001", Operations: []string{"Decrypt"}, DryRun: true})
	wantCode(t, err, api.CodeDryRunOperation)
	if l, _ := s.ListGrants(ctx, &api.ListGrantsInput{KeyId: id}); len(l.Grants) != 1 {
		t.Fatal("a dry run made a grant")
	}
	_, err = s.GenerateDataKey(ctx, &api.GenerateDataKeyInput{KeyId: id, KeySpec: "AES_256", DryRun: true})
	wantCode(t, err, api.CodeDryRunOperation)
	_, err = s.GenerateDataKey(ctx, &api.GenerateDataKeyInput{KeyId: id, KeySpec: "AES_512", DryRun: true})
	wantCode(t, err, api.CodeValidation) // validation comes first
	_, err = s.Encrypt(ctx, &api.EncryptInput{KeyId: id, Plaintext: []byte("x"), DryRun: true})
	wantCode(t, err, api.CodeDryRunOperation)
	blob := mustEncrypt(t, s, id, "x", nil)
	_, err = s.Decrypt(ctx, &api.DecryptInput{CiphertextBlob: blob, DryRun: true})
	wantCode(t, err, api.CodeDryRunOperation)
	_, err = s.ReEncrypt(ctx, &api.ReEncryptInput{CiphertextBlob: blob, DestinationKeyId: id, DryRun: true})
	wantCode(t, err, api.CodeDryRunOperation)
	wantCode(t, s.DisableKey(ctx, &api.KeyIDInput{KeyId: id}), "")
	_, err = s.Encrypt(ctx, &api.EncryptInput{KeyId: id, Plaintext: []byte("x"), DryRun: true})
	wantCode(t, err, api.CodeDisabled) // the real answer, not DryRun's
	mac := specKey(t, s, ctx, "HMAC_256", "GENERATE_VERIFY_MAC")
	_, err = s.VerifyMac(ctx, &api.VerifyMacInput{KeyId: mac.KeyId, Message: []byte("m"), Mac: []byte("m"), MacAlgorithm: "HMAC_SHA_256", DryRun: true})
	wantCode(t, err, api.CodeDryRunOperation)
	agree := specKey(t, s, ctx, "ECC_NIST_P256", "KEY_AGREEMENT")
	_, err = s.DeriveSharedSecret(ctx, &api.DeriveSharedSecretInput{KeyId: agree.KeyId, KeyAgreementAlgorithm: "ECDH", PublicKey: []byte("not a key"), DryRun: true})
	wantCode(t, err, api.CodeValidation)
}
