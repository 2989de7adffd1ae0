package awssdk

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
)

// TestImport: a program bringing its own key through the SDK, as AWS's
// documentation has it: parameters, RSA-OAEP wrapping, import with an
// expiry (a timestamp the SDK sends as epoch seconds), use, refusals as
// the SDK's typed errors, deletion.
func TestImport(t *testing.T) {
	e := start(t)
	c := e.client(t)
	id := must(c.CreateKey(ctx, &kms.CreateKeyInput{Origin: types.OriginTypeExternal}))(t).KeyMetadata.KeyId
	wrap := func(material []byte) (*kms.GetParametersForImportOutput, []byte) {
		p := must(c.GetParametersForImport(ctx, &kms.GetParametersForImportInput{KeyId: id,
			WrappingAlgorithm: types.AlgorithmSpecRsaesOaepSha256, WrappingKeySpec: types.WrappingKeySpecRsa2048}))(t)
		pub, err := x509.ParsePKIXPublicKey(p.PublicKey)
		if err != nil {
			t.Fatal(err)
		}
		ct, err := rsa.EncryptOAEP(sha256.New(), rand.Reader, pub.(*rsa.PublicKey), material, nil)
		if err != nil {
			t.Fatal(err)
		}
		if time.Until(*p.ParametersValidTo) < 23*time.Hour {
			t.Errorf("parameters valid to %s", p.ParametersValidTo)
		}
		return p, ct
	}
	material := make([]byte, 32)
	rand.Read(material)
	validTo := time.Now().Add(72 * time.Hour).Truncate(time.Second)
	p, ct := wrap(material)
	must(c.ImportKeyMaterial(ctx, &kms.ImportKeyMaterialInput{KeyId: id, ImportToken: p.ImportToken, EncryptedKeyMaterial: ct,
		ExpirationModel: types.ExpirationModelTypeKeyMaterialExpires, ValidTo: aws.Time(validTo)}))(t)
	md := must(c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: id}))(t).KeyMetadata
	if md.KeyState != types.KeyStateEnabled || md.ExpirationModel != types.ExpirationModelTypeKeyMaterialExpires ||
		md.ValidTo == nil || !md.ValidTo.Equal(validTo) || md.Origin != types.OriginTypeExternal {
		t.Fatalf("after import: %+v", md)
	}
	enc := must(c.Encrypt(ctx, &kms.EncryptInput{KeyId: id, Plaintext: []byte("byok")}))(t)
	if dec := must(c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob}))(t); string(dec.Plaintext) != "byok" {
		t.Errorf("decrypt: %q", dec.Plaintext)
	}
	var invalid *types.InvalidImportTokenException
	if _, err := c.ImportKeyMaterial(ctx, &kms.ImportKeyMaterialInput{KeyId: id, ImportToken: p.ImportToken, EncryptedKeyMaterial: ct,
		ExpirationModel: types.ExpirationModelTypeKeyMaterialDoesNotExpire}); !errors.As(err, &invalid) {
		t.Errorf("a spent token: %v", err)
	}
	other := make([]byte, 32)
	rand.Read(other)
	p2, ct2 := wrap(other)
	var incorrect *types.IncorrectKeyMaterialException
	if _, err := c.ImportKeyMaterial(ctx, &kms.ImportKeyMaterialInput{KeyId: id, ImportToken: p2.ImportToken, EncryptedKeyMaterial: ct2,
		ExpirationModel: types.ExpirationModelTypeKeyMaterialDoesNotExpire}); !errors.As(err, &incorrect) {
		t.Errorf("other material: %v", err)
	}
	must(c.DeleteImportedKeyMaterial(ctx, &kms.DeleteImportedKeyMaterialInput{KeyId: id}))(t)
	var state *types.KMSInvalidStateException
	if _, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob}); !errors.As(err, &state) {
		t.Errorf("decrypt after deletion: %v", err)
	}
}
