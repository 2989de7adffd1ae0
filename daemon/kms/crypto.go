package kms

import (
	"context"
	"crypto/rand"
	"errors"

	"kmsd/keystore"
	"kmsd/wire/api"
)

// Size limits of the crypto operations, as in AWS.
const (
	MaxPlaintext      = 4096
	MaxCiphertextBlob = 6144
	MaxDataKeyBytes   = 1024
	MaxRandomBytes    = 1024
)

func checkAlgorithm(alg string) error {
	if alg != "" && alg != api.AlgSymmetricDefault {
		return errorf(api.CodeInvalidKeyUsage, "EncryptionAlgorithm %q is not valid for a symmetric key (use %s)", alg, api.AlgSymmetricDefault)
	}
	return nil
}

func checkContext(ec map[string]string) error {
	if err := keystore.ValidateContext(ec); err != nil {
		return errorf(api.CodeValidation, "EncryptionContext: %v", err)
	}
	return nil
}

// parseContext validates and encodes a request's encryption context once,
// for authorization and for the AEAD. The caller releases it.
func parseContext(ec map[string]string) (*keystore.Context, error) {
	c, err := keystore.ParseContext(ec)
	if err != nil {
		return nil, errorf(api.CodeValidation, "EncryptionContext: %v", err)
	}
	return c, nil
}

// encryptWith seals plaintext under the current version of e once the
// caller is authorized for act. The caller has validated the context and
// holds no lock on e.
func (s *Service) encryptWith(ctx context.Context, op, act string, e *entry, ec *keystore.Context, tokens []string, plaintext []byte) (blob []byte, matID string, err error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if _, err := s.authorize(ctx, e, act, ec, tokens); err != nil {
		return nil, "", err
	}
	if err := checkState(op, e); err != nil {
		return nil, "", err
	}
	v := uint32(len(e.rec.Versions))
	noteVersion(ctx, act, v)
	m, err := e.material(s.root, v)
	if err != nil {
		return nil, "", s.internal(op, err)
	}
	blob, err = keystore.SealBlobContext(make([]byte, 0, len(plaintext)+keystore.BlobOverhead), m, s.suite, e.id, ec, plaintext)
	if err != nil {
		return nil, "", s.internal(op, err)
	}
	return blob, e.matIDs[v-1], nil
}

// Encrypt seals 1 to 4096 bytes under the current version of a key
// (alias allowed), binding the encryption context.
func (s *Service) Encrypt(ctx context.Context, in *api.EncryptInput) (*api.EncryptOutput, error) {
	if len(in.Plaintext) < 1 || len(in.Plaintext) > MaxPlaintext {
		return nil, errorf(api.CodeValidation, "Plaintext must be 1 to %d bytes", MaxPlaintext)
	}
	if err := checkAlgorithm(in.EncryptionAlgorithm); err != nil {
		return nil, err
	}
	ec, err := parseContext(in.EncryptionContext)
	if err != nil {
		return nil, err
	}
	defer ec.Release()
	e, err := s.resolveUse(ctx, in.KeyId)
	if err != nil {
		return nil, err
	}
	blob, matID, err := s.encryptWith(ctx, api.OpEncrypt, "kms:Encrypt", e, ec, in.GrantTokens, in.Plaintext)
	if err != nil {
		return nil, err
	}
	return &api.EncryptOutput{CiphertextBlob: blob, KeyId: e.arn, EncryptionAlgorithm: api.AlgSymmetricDefault, KeyMaterialId: matID}, nil
}

// decrypt opens a blob once the caller is authorized for act on its key.
// keyID, if set, must name the blob's key. It returns the plaintext (the
// caller zeroes it when done), the key and the version's KeyMaterialId.
func (s *Service) decrypt(ctx context.Context, op, act string, blob []byte, keyID string, ecMap map[string]string, tokens []string) ([]byte, *entry, string, error) {
	if len(blob) < 1 || len(blob) > MaxCiphertextBlob {
		return nil, nil, "", errorf(api.CodeValidation, "CiphertextBlob must be 1 to %d bytes", MaxCiphertextBlob)
	}
	ec, err := parseContext(ecMap)
	if err != nil {
		return nil, nil, "", err
	}
	defer ec.Release()
	h, err := keystore.ParseBlobHeader(blob)
	if err != nil {
		return nil, nil, "", errorf(api.CodeInvalidCiphertext, "the ciphertext is not a kmsd ciphertext blob, or it is damaged")
	}
	var e *entry
	if keyID != "" {
		noteAlias(ctx, keyID)
		if e, err = s.resolve(keyID, true); err != nil {
			return nil, nil, "", err
		}
		if e.id != h.KeyID {
			return nil, nil, "", errorf(api.CodeIncorrectKey, "the ciphertext was not encrypted under %s", e.arn)
		}
	} else if e = s.lookup(h.KeyID); e == nil {
		return nil, nil, "", notFound(keyARN(h.KeyID)) // deleted, or never here
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	if _, err := s.authorize(ctx, e, act, ec, tokens); err != nil {
		return nil, nil, "", err
	}
	if err := checkState(op, e); err != nil {
		return nil, nil, "", err
	}
	if h.KeyVersion == 0 || int(h.KeyVersion) > len(e.rec.Versions) {
		return nil, nil, "", errorf(api.CodeInvalidCiphertext, "the ciphertext is damaged or was not made by this kmsd")
	}
	noteVersion(ctx, act, h.KeyVersion)
	m, err := e.material(s.root, h.KeyVersion)
	if err != nil {
		return nil, nil, "", s.internal(op, err)
	}
	pt, err := keystore.OpenBlobContext(make([]byte, 0, len(blob)-keystore.BlobOverhead), m, e.id, ec, blob)
	if errors.Is(err, keystore.ErrBlob) {
		return nil, nil, "", errorf(api.CodeInvalidCiphertext, "the ciphertext or its encryption context does not authenticate")
	} else if err != nil {
		return nil, nil, "", s.internal(op, err)
	}
	return pt, e, e.matIDs[h.KeyVersion-1], nil
}

// Decrypt opens a blob made by Encrypt, GenerateDataKey or ReEncrypt with
// the same encryption context. The blob names its key and version, so
// KeyId is optional; when given, a different key is IncorrectKeyException.
// A wrong context or any damaged byte is InvalidCiphertextException.
func (s *Service) Decrypt(ctx context.Context, in *api.DecryptInput) (*api.DecryptOutput, error) {
	if err := checkAlgorithm(in.EncryptionAlgorithm); err != nil {
		return nil, err
	}
	pt, e, matID, err := s.decrypt(ctx, api.OpDecrypt, "kms:Decrypt", in.CiphertextBlob, in.KeyId, in.EncryptionContext, in.GrantTokens)
	if err != nil {
		return nil, err
	}
	return &api.DecryptOutput{KeyId: e.arn, Plaintext: pt, EncryptionAlgorithm: api.AlgSymmetricDefault, KeyMaterialId: matID}, nil
}

// ReEncrypt decrypts a blob and encrypts its plaintext under another key
// or context inside the service; the plaintext is zeroed and never returned.
func (s *Service) ReEncrypt(ctx context.Context, in *api.ReEncryptInput) (*api.ReEncryptOutput, error) {
	if err := checkAlgorithm(in.SourceEncryptionAlgorithm); err != nil {
		return nil, err
	}
	if err := checkAlgorithm(in.DestinationEncryptionAlgorithm); err != nil {
		return nil, err
	}
	dstEC, err := parseContext(in.DestinationEncryptionContext)
	if err != nil {
		return nil, err
	}
	defer dstEC.Release()
	dst, err := s.resolveUse(ctx, in.DestinationKeyId)
	if err != nil {
		return nil, err
	}
	pt, src, srcMat, err := s.decrypt(ctx, api.OpReEncrypt, "kms:ReEncryptFrom", in.CiphertextBlob, in.SourceKeyId, in.SourceEncryptionContext, in.GrantTokens)
	if err != nil {
		return nil, err
	}
	defer clear(pt)
	blob, dstMat, err := s.encryptWith(ctx, api.OpReEncrypt, "kms:ReEncryptTo", dst, dstEC, in.GrantTokens, pt)
	if err != nil {
		return nil, err
	}
	return &api.ReEncryptOutput{
		CiphertextBlob: blob, SourceKeyId: src.arn, KeyId: dst.arn,
		SourceEncryptionAlgorithm: api.AlgSymmetricDefault, DestinationEncryptionAlgorithm: api.AlgSymmetricDefault,
		SourceKeyMaterialId: srcMat, DestinationKeyMaterialId: dstMat,
	}, nil
}

// GenerateDataKey returns a fresh data key from crypto/rand in plaintext
// and encrypted under a key exactly as Encrypt would encrypt it. Exactly
// one of KeySpec (AES_256, AES_128) and NumberOfBytes (1..1024) is given.
func (s *Service) GenerateDataKey(ctx context.Context, in *api.GenerateDataKeyInput) (*api.GenerateDataKeyOutput, error) {
	return s.generateDataKey(ctx, api.OpGenerateDataKey, in, true)
}

// GenerateDataKeyWithoutPlaintext is GenerateDataKey without the plaintext
// in the response; the service zeroes it.
func (s *Service) GenerateDataKeyWithoutPlaintext(ctx context.Context, in *api.GenerateDataKeyInput) (*api.GenerateDataKeyOutput, error) {
	return s.generateDataKey(ctx, api.OpGenerateDataKeyWithoutPlaintext, in, false)
}

func (s *Service) generateDataKey(ctx context.Context, op string, in *api.GenerateDataKeyInput, withPlaintext bool) (*api.GenerateDataKeyOutput, error) {
	var n int
	switch {
	case in.KeySpec != "" && in.NumberOfBytes != nil:
		return nil, errorf(api.CodeValidation, "give KeySpec or NumberOfBytes, not both")
	case in.KeySpec == api.DataKeySpecAES256:
		n = 32
	case in.KeySpec == api.DataKeySpecAES128:
		n = 16
	case in.KeySpec != "":
		return nil, errorf(api.CodeValidation, "KeySpec must be %s or %s", api.DataKeySpecAES256, api.DataKeySpecAES128)
	case in.NumberOfBytes == nil:
		return nil, errorf(api.CodeValidation, "KeySpec or NumberOfBytes is required")
	case *in.NumberOfBytes >= 1 && *in.NumberOfBytes <= MaxDataKeyBytes:
		n = int(*in.NumberOfBytes)
	default:
		return nil, errorf(api.CodeValidation, "NumberOfBytes must be 1 to %d", MaxDataKeyBytes)
	}
	ec, err := parseContext(in.EncryptionContext)
	if err != nil {
		return nil, err
	}
	defer ec.Release()
	e, err := s.resolveUse(ctx, in.KeyId)
	if err != nil {
		return nil, err
	}
	pt := make([]byte, n)
	if _, err := rand.Read(pt); err != nil {
		return nil, s.internal(op, err)
	}
	blob, matID, err := s.encryptWith(ctx, op, action(op), e, ec, in.GrantTokens, pt)
	if err != nil || !withPlaintext {
		clear(pt)
		pt = nil
	}
	if err != nil {
		return nil, err
	}
	return &api.GenerateDataKeyOutput{CiphertextBlob: blob, Plaintext: pt, KeyId: e.arn, KeyMaterialId: matID}, nil
}

// GenerateRandom returns 1 to 1024 bytes from crypto/rand.
func (s *Service) GenerateRandom(ctx context.Context, in *api.GenerateRandomInput) (*api.GenerateRandomOutput, error) {
	if _, err := principalOf(ctx); err != nil {
		return nil, err
	}
	if in.NumberOfBytes == nil || *in.NumberOfBytes < 1 || *in.NumberOfBytes > MaxRandomBytes {
		return nil, errorf(api.CodeValidation, "NumberOfBytes must be 1 to %d", MaxRandomBytes)
	}
	b := make([]byte, *in.NumberOfBytes)
	if _, err := rand.Read(b); err != nil {
		return nil, s.internal(api.OpGenerateRandom, err)
	}
	return &api.GenerateRandomOutput{Plaintext: b}, nil
}
