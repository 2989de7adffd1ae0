package awssdk

import (
	"bytes"
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	jose "github.com/go-jose/go-jose/v4"
)

// TestAsymmetricOperations drives every operation of the asymmetric and
// HMAC keys through the SDK against kmsd's AWS endpoint, and checks each
// answer with the standard library from the public key alone.
func TestAsymmetricOperations(t *testing.T) {
	e := start(t)
	c := e.client(t)
	newKey := func(spec types.KeySpec, usage types.KeyUsageType) *types.KeyMetadata {
		t.Helper()
		return must(c.CreateKey(ctx, &kms.CreateKeyInput{KeySpec: spec, KeyUsage: usage}))(t).KeyMetadata
	}
	msg := []byte("signed through the AWS endpoint")
	digest := sha256.Sum256(msg)

	// Sign, Verify, GetPublicKey (ECDSA and RSA-PSS), DryRun.
	ec := newKey(types.KeySpecEccNistP256, types.KeyUsageTypeSignVerify)
	if !slices.Equal(ec.SigningAlgorithms, []types.SigningAlgorithmSpec{types.SigningAlgorithmSpecEcdsaSha256}) {
		t.Errorf("CreateKey SigningAlgorithms: %v", ec.SigningAlgorithms)
	}
	sig := must(c.Sign(ctx, &kms.SignInput{KeyId: ec.KeyId, Message: msg, MessageType: types.MessageTypeRaw,
		SigningAlgorithm: types.SigningAlgorithmSpecEcdsaSha256}))(t)
	pk := must(c.GetPublicKey(ctx, &kms.GetPublicKeyInput{KeyId: ec.KeyId}))(t)
	pub, err := x509.ParsePKIXPublicKey(pk.PublicKey)
	if err != nil || pk.KeySpec != types.KeySpecEccNistP256 || pk.KeyUsage != types.KeyUsageTypeSignVerify {
		t.Fatalf("GetPublicKey: %+v %v", pk, err)
	}
	if !ecdsa.VerifyASN1(pub.(*ecdsa.PublicKey), digest[:], sig.Signature) {
		t.Error("Sign's ECDSA signature does not verify with GetPublicKey's key")
	}
	v := must(c.Verify(ctx, &kms.VerifyInput{KeyId: ec.KeyId, Message: digest[:], MessageType: types.MessageTypeDigest,
		Signature: sig.Signature, SigningAlgorithm: types.SigningAlgorithmSpecEcdsaSha256}))(t)
	if !v.SignatureValid || v.SigningAlgorithm != types.SigningAlgorithmSpecEcdsaSha256 {
		t.Errorf("Verify: %+v", v)
	}
	_, err = c.Verify(ctx, &kms.VerifyInput{KeyId: ec.KeyId, Message: []byte("other"), Signature: sig.Signature,
		SigningAlgorithm: types.SigningAlgorithmSpecEcdsaSha256})
	var invalid *types.KMSInvalidSignatureException
	if !errors.As(err, &invalid) {
		t.Errorf("Verify of another message: %v, want the SDK's KMSInvalidSignatureException", err)
	}
	_, err = c.Sign(ctx, &kms.SignInput{KeyId: ec.KeyId, Message: msg, SigningAlgorithm: types.SigningAlgorithmSpecEcdsaSha256, DryRun: aws.Bool(true)})
	var dry *types.DryRunOperationException
	if !errors.As(err, &dry) {
		t.Errorf("Sign with DryRun: %v, want DryRunOperationException", err)
	}

	rsaKey := newKey(types.KeySpecRsa2048, types.KeyUsageTypeSignVerify)
	pss := must(c.Sign(ctx, &kms.SignInput{KeyId: rsaKey.KeyId, Message: msg, SigningAlgorithm: types.SigningAlgorithmSpecRsassaPssSha256}))(t)
	rpk := must(c.GetPublicKey(ctx, &kms.GetPublicKeyInput{KeyId: rsaKey.KeyId}))(t)
	rpub, _ := x509.ParsePKIXPublicKey(rpk.PublicKey)
	if err := rsa.VerifyPSS(rpub.(*rsa.PublicKey), crypto.SHA256, digest[:], pss.Signature, &rsa.PSSOptions{SaltLength: 32}); err != nil {
		t.Errorf("RSASSA_PSS_SHA_256 with a 32-byte salt: %v", err)
	}

	// GenerateMac and VerifyMac.
	mk := newKey(types.KeySpecHmac256, types.KeyUsageTypeGenerateVerifyMac)
	if !slices.Equal(mk.MacAlgorithms, []types.MacAlgorithmSpec{types.MacAlgorithmSpecHmacSha256}) {
		t.Errorf("MacAlgorithms: %v", mk.MacAlgorithms)
	}
	mac := must(c.GenerateMac(ctx, &kms.GenerateMacInput{KeyId: mk.KeyId, Message: msg, MacAlgorithm: types.MacAlgorithmSpecHmacSha256}))(t)
	if vm := must(c.VerifyMac(ctx, &kms.VerifyMacInput{KeyId: mk.KeyId, Message: msg, Mac: mac.Mac, MacAlgorithm: types.MacAlgorithmSpecHmacSha256}))(t); !vm.MacValid {
		t.Errorf("VerifyMac: %+v", vm)
	}
	_, err = c.VerifyMac(ctx, &kms.VerifyMacInput{KeyId: mk.KeyId, Message: []byte("x"), Mac: mac.Mac, MacAlgorithm: types.MacAlgorithmSpecHmacSha256})
	var badMac *types.KMSInvalidMacException
	if !errors.As(err, &badMac) {
		t.Errorf("VerifyMac of another message: %v", err)
	}

	// DeriveSharedSecret.
	ak := newKey(types.KeySpecEccNistP256, types.KeyUsageTypeKeyAgreement)
	peer, _ := ecdh.P256().GenerateKey(rand.Reader)
	peerDER, _ := x509.MarshalPKIXPublicKey(peer.PublicKey())
	ds := must(c.DeriveSharedSecret(ctx, &kms.DeriveSharedSecretInput{KeyId: ak.KeyId, KeyAgreementAlgorithm: types.KeyAgreementAlgorithmSpecEcdh, PublicKey: peerDER}))(t)
	apk := must(c.GetPublicKey(ctx, &kms.GetPublicKeyInput{KeyId: ak.KeyId}))(t)
	apub, _ := x509.ParsePKIXPublicKey(apk.PublicKey)
	theirs, _ := apub.(*ecdsa.PublicKey).ECDH()
	want, _ := peer.ECDH(theirs)
	if !bytes.Equal(ds.SharedSecret, want) || ds.KeyOrigin != types.OriginTypeAwsKms || !slices.Equal(apk.KeyAgreementAlgorithms, []types.KeyAgreementAlgorithmSpec{types.KeyAgreementAlgorithmSpecEcdh}) {
		t.Errorf("DeriveSharedSecret: %+v", ds)
	}

	// RSA encryption: the SDK's Encrypt and Decrypt with RSAES_OAEP_SHA_256,
	// and a ciphertext made with the public key alone.
	ek := newKey(types.KeySpecRsa3072, types.KeyUsageTypeEncryptDecrypt)
	epk := must(c.GetPublicKey(ctx, &kms.GetPublicKeyInput{KeyId: ek.KeyId}))(t)
	epub, _ := x509.ParsePKIXPublicKey(epk.PublicKey)
	ct, err := rsa.EncryptOAEP(sha256.New(), rand.Reader, epub.(*rsa.PublicKey), msg, nil)
	if err != nil {
		t.Fatal(err)
	}
	dec := must(c.Decrypt(ctx, &kms.DecryptInput{KeyId: ek.KeyId, CiphertextBlob: ct, EncryptionAlgorithm: types.EncryptionAlgorithmSpecRsaesOaepSha256}))(t)
	if !bytes.Equal(dec.Plaintext, msg) || dec.EncryptionAlgorithm != types.EncryptionAlgorithmSpecRsaesOaepSha256 {
		t.Errorf("Decrypt of an OAEP ciphertext: %q %s", dec.Plaintext, dec.EncryptionAlgorithm)
	}
	enc := must(c.Encrypt(ctx, &kms.EncryptInput{KeyId: ek.KeyId, Plaintext: msg, EncryptionAlgorithm: types.EncryptionAlgorithmSpecRsaesOaepSha1}))(t)
	if len(enc.CiphertextBlob) != 384 {
		t.Errorf("an RSA-3072 ciphertext of %d bytes", len(enc.CiphertextBlob))
	}

	// Data key pairs.
	sym := newKey("", "")
	pair := must(c.GenerateDataKeyPair(ctx, &kms.GenerateDataKeyPairInput{KeyId: sym.KeyId, KeyPairSpec: types.DataKeyPairSpecEccNistP384}))(t)
	priv, err := x509.ParsePKCS8PrivateKey(pair.PrivateKeyPlaintext)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(&priv.(*ecdsa.PrivateKey).PublicKey)
	if !bytes.Equal(der, pair.PublicKey) || pair.KeyPairSpec != types.DataKeyPairSpecEccNistP384 {
		t.Error("GenerateDataKeyPair's public key is not its private key's")
	}
	back := must(c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: pair.PrivateKeyCiphertextBlob}))(t)
	if !bytes.Equal(back.Plaintext, pair.PrivateKeyPlaintext) {
		t.Error("PrivateKeyCiphertextBlob does not decrypt to the private key")
	}
	wp := must(c.GenerateDataKeyPairWithoutPlaintext(ctx, &kms.GenerateDataKeyPairWithoutPlaintextInput{KeyId: sym.KeyId, KeyPairSpec: types.DataKeyPairSpecRsa2048}))(t)
	if len(wp.PublicKey) == 0 || len(wp.PrivateKeyCiphertextBlob) == 0 {
		t.Errorf("GenerateDataKeyPairWithoutPlaintext: %+v", wp)
	}
	// A grant of the asymmetric operations, as the SDK names them.
	must(c.CreateGrant(ctx, &kms.CreateGrantInput{KeyId: ec.KeyId, GranteePrincipal: aws.String("uid:65534"),
		Operations: []types.GrantOperation{types.GrantOperationSign, types.GrantOperationVerify, types.GrantOperationGetPublicKey}}))(t)
}

// TestJWTSignedByKMS: JWTs (ES256, RS256, PS256) whose signatures kmsd
// makes over the AWS endpoint verify with go-jose and the public key from
// GetPublicKey: ECDSA's DER signature turned into JOSE's r||s, as every
// KMS-backed JWT signer does.
func TestJWTSignedByKMS(t *testing.T) {
	e := start(t)
	c := e.client(t)
	for _, tc := range []struct {
		alg  jose.SignatureAlgorithm
		spec types.KeySpec
		kms  types.SigningAlgorithmSpec
	}{
		{jose.ES256, types.KeySpecEccNistP256, types.SigningAlgorithmSpecEcdsaSha256},
		{jose.RS256, types.KeySpecRsa2048, types.SigningAlgorithmSpecRsassaPkcs1V15Sha256},
		{jose.PS256, types.KeySpecRsa2048, types.SigningAlgorithmSpecRsassaPssSha256},
	} {
		t.Run(string(tc.alg), func(t *testing.T) {
			k := must(c.CreateKey(ctx, &kms.CreateKeyInput{KeySpec: tc.spec, KeyUsage: types.KeyUsageTypeSignVerify}))(t).KeyMetadata
			header, _ := json.Marshal(map[string]string{"alg": string(tc.alg), "typ": "JWT", "kid": aws.ToString(k.KeyId)})
			claims, _ := json.Marshal(map[string]any{"sub": "kmsd", "iat": 1764892800})
			input := b64(header) + "." + b64(claims)
			s := must(c.Sign(ctx, &kms.SignInput{KeyId: k.KeyId, Message: []byte(input), MessageType: types.MessageTypeRaw, SigningAlgorithm: tc.kms}))(t)
			sig := s.Signature
			if tc.alg == jose.ES256 {
				sig = joseECDSA(t, sig, 32)
			}
			token := input + "." + b64(sig)
			pk := must(c.GetPublicKey(ctx, &kms.GetPublicKeyInput{KeyId: k.KeyId}))(t)
			pub, err := x509.ParsePKIXPublicKey(pk.PublicKey)
			if err != nil {
				t.Fatal(err)
			}
			jws, err := jose.ParseSignedCompact(token, []jose.SignatureAlgorithm{tc.alg})
			if err != nil {
				t.Fatal(err)
			}
			payload, err := jws.Verify(pub)
			if err != nil || !strings.Contains(string(payload), `"sub":"kmsd"`) {
				t.Fatalf("go-jose: %v (%s)", err, payload)
			}
			altered := input + "." + b64(append(bytes.Clone(sig[:len(sig)-1]), sig[len(sig)-1]^1))
			if jws, err := jose.ParseSignedCompact(altered, []jose.SignatureAlgorithm{tc.alg}); err == nil {
				if _, err := jws.Verify(pub); err == nil {
					t.Fatal("go-jose verified a token whose signature was altered")
				}
			}
		})
	}
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// joseECDSA turns a DER ECDSA signature into JWS's fixed-size r||s (RFC
// 7518 section 3.4).
func joseECDSA(t *testing.T, der []byte, size int) []byte {
	t.Helper()
	var rs struct{ R, S *big.Int }
	if rest, err := asn1.Unmarshal(der, &rs); err != nil || len(rest) > 0 {
		t.Fatalf("not a DER signature: %v", err)
	}
	return append(rs.R.FillBytes(make([]byte, size)), rs.S.FillBytes(make([]byte, size))...)
}
