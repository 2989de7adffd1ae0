package kms

import (
	"context"

	"kmsd/keystore"
	"kmsd/keystore/keyspec"
	"kmsd/wire/api"
)

// GenerateDataKeyPair makes a key pair of KeyPairSpec and returns its
// public key, and its private key (PKCS#8 DER) in plaintext and encrypted
// under a symmetric key exactly as Encrypt would encrypt it.
func (s *Service) GenerateDataKeyPair(ctx context.Context, in *api.GenerateDataKeyPairInput) (*api.GenerateDataKeyPairOutput, error) {
	return s.generateDataKeyPair(ctx, api.OpGenerateDataKeyPair, in)
}

// GenerateDataKeyPairWithoutPlaintext is GenerateDataKeyPair without the
// private key in plaintext; the service zeroes it.
func (s *Service) GenerateDataKeyPairWithoutPlaintext(ctx context.Context, in *api.GenerateDataKeyPairInput) (*api.GenerateDataKeyPairOutput, error) {
	return s.generateDataKeyPair(ctx, api.OpGenerateDataKeyPairWithoutPlaintext, in)
}

func (s *Service) generateDataKeyPair(ctx context.Context, op string, in *api.GenerateDataKeyPairInput) (*api.GenerateDataKeyPairOutput, error) {
	spec := keyspec.Lookup(in.KeyPairSpec)
	if spec == nil || !spec.IsPair() {
		return nil, errorf(api.CodeValidation, "KeyPairSpec must be RSA_2048, RSA_3072, RSA_4096, ECC_NIST_P256, ECC_NIST_P384, ECC_NIST_P521 or ECC_SECG_P256K1, not %q", in.KeyPairSpec)
	}
	z := s.newSealer(ctx, op, action(op), in.KeyId, in.EncryptionContext, in.GrantTokens)
	defer z.release()
	defer report(ctx, &z.rep)
	if z.err != nil {
		return nil, z.err
	}
	if in.DryRun {
		return nil, errDryRun(op)
	}
	var priv, pub []byte
	err := s.keygen.generate(ctx, spec, func() (err error) {
		if priv, pub, err = keyspec.GeneratePair(spec); err != nil {
			return s.internal(op, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	defer clear(priv)
	blob, err := z.seal(make([]byte, 0, len(priv)+keystore.BlobOverhead), priv)
	if err != nil {
		return nil, err
	}
	out := &api.GenerateDataKeyPairOutput{KeyId: z.e.arn, KeyPairSpec: in.KeyPairSpec, PrivateKeyCiphertextBlob: blob,
		PublicKey: pub, KeyMaterialId: z.matID}
	if op == api.OpGenerateDataKeyPair {
		out.PrivateKeyPlaintext = append([]byte(nil), priv...)
	}
	return out, nil
}
