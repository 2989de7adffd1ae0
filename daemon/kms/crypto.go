package kms

import (
	"context"
	"crypto/rand"

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

// The crypto operations come in batches: each takes its items, answers
// each into a Sink, and resolves, authorizes and checks once for the items
// that share a key, an encryption context and grant tokens (see groups).
// A single request is a batch of one (see single).

// EncryptBatch seals each item's 1 to 4096 bytes under the current
// version of its key (alias allowed), binding its encryption context.
func (s *Service) EncryptBatch(ctx context.Context, items []api.EncryptInput, sink Sink) {
	var g groups
	defer g.release()
	var rsa keyGroups
	out := new(api.EncryptOutput)
	for i := range items {
		in := &items[i]
		if isRSA(in.EncryptionAlgorithm) {
			g.unhold() // the RSA paths lock the keys they use
			s.encryptRSA(ctx, &rsa, i, in, sink)
			continue
		}
		if len(in.Plaintext) < 1 || len(in.Plaintext) > MaxPlaintext {
			sink.Fail(i, failed(in.EncryptionContext), errorf(api.CodeValidation, "Plaintext must be 1 to %d bytes", MaxPlaintext))
			continue
		}
		if err := checkAlgorithm(in.EncryptionAlgorithm); err != nil {
			sink.Fail(i, failed(in.EncryptionContext), err)
			continue
		}
		z := g.sealer(s, ctx, api.OpEncrypt, "kms:Encrypt", in.KeyId, in.EncryptionContext, in.GrantTokens)
		if z.err != nil {
			sink.Fail(i, &z.rep, z.err)
			continue
		}
		if in.DryRun {
			sink.Fail(i, &z.rep, errDryRun(api.OpEncrypt))
			continue
		}
		*out = api.EncryptOutput{KeyId: z.e.arn, EncryptionAlgorithm: api.AlgSymmetricDefault, KeyMaterialId: z.matID}
		if err := sink.Answer(i, &z.rep, out, Fill{n: len(in.Plaintext) + keystore.BlobOverhead, seal: z, in: in.Plaintext}); err != nil {
			sink.Fail(i, &z.rep, err)
		}
	}
}

// blobOf checks a blob's size and reads its header; a blob that has none
// is InvalidCiphertextException (or, if its context is invalid too,
// ValidationException, which AWS checks first).
func blobOf(blob []byte, ec map[string]string) (keystore.BlobHeader, error) {
	if len(blob) < 1 || len(blob) > MaxCiphertextBlob {
		return keystore.BlobHeader{}, errorf(api.CodeValidation, "CiphertextBlob must be 1 to %d bytes", MaxCiphertextBlob)
	}
	h, err := keystore.ParseBlobHeader(blob)
	if err != nil {
		if err := keystore.ValidateContext(ec); err != nil {
			return h, errorf(api.CodeValidation, "EncryptionContext: %v", err)
		}
		return h, errorf(api.CodeInvalidCiphertext, "the ciphertext is not a kmsd ciphertext blob, or it is damaged")
	}
	return h, nil
}

// DecryptBatch opens blobs made by Encrypt, GenerateDataKey or ReEncrypt
// with the same encryption context. A blob names its key and version, so
// KeyId is optional; when given, a different key is IncorrectKeyException.
// A wrong context or any damaged byte is InvalidCiphertextException.
func (s *Service) DecryptBatch(ctx context.Context, items []api.DecryptInput, sink Sink) {
	var g groups
	defer g.release()
	var rsa keyGroups
	out := new(api.DecryptOutput)
	for i := range items {
		in := &items[i]
		if isRSA(in.EncryptionAlgorithm) {
			g.unhold() // the RSA paths lock the keys they use
			s.decryptRSA(ctx, &rsa, i, in, sink)
			continue
		}
		if err := checkAlgorithm(in.EncryptionAlgorithm); err != nil {
			sink.Fail(i, failed(in.EncryptionContext), err)
			continue
		}
		h, err := blobOf(in.CiphertextBlob, in.EncryptionContext)
		if err != nil {
			sink.Fail(i, failed(in.EncryptionContext), err)
			continue
		}
		o := g.opener(s, ctx, api.OpDecrypt, "kms:Decrypt", blobRef{in.KeyId, h.KeyID, h.KeyVersion}, in.EncryptionContext, in.GrantTokens)
		if o.err != nil {
			sink.Fail(i, &o.rep, o.err)
			continue
		}
		if in.DryRun {
			sink.Fail(i, &o.rep, errDryRun(api.OpDecrypt))
			continue
		}
		*out = api.DecryptOutput{KeyId: o.e.arn, EncryptionAlgorithm: api.AlgSymmetricDefault, KeyMaterialId: o.matID}
		if err := sink.Answer(i, &o.rep, out, Fill{n: len(in.CiphertextBlob) - keystore.BlobOverhead, open: o, in: in.CiphertextBlob}); err != nil {
			sink.Fail(i, &o.rep, err)
		}
	}
}

// ReEncryptBatch decrypts each blob and encrypts its plaintext under
// another key or context inside the service; the plaintext is zeroed and
// never returned.
func (s *Service) ReEncryptBatch(ctx context.Context, items []api.ReEncryptInput, sink Sink) {
	var g groups
	defer g.release()
	var rsa keyGroups
	out := new(api.ReEncryptOutput)
	var scratch [MaxPlaintext]byte
	defer clear(scratch[:])
	for i := range items {
		in := &items[i]
		if isRSA(in.SourceEncryptionAlgorithm) || isRSA(in.DestinationEncryptionAlgorithm) {
			g.unhold() // the RSA paths lock the keys they use
			s.reEncryptRSA(ctx, &g, &rsa, i, in, sink, scratch[:0])
			continue
		}
		fail := func(err error) { sink.Fail(i, failed(in.SourceEncryptionContext), err) }
		if err := checkAlgorithm(in.SourceEncryptionAlgorithm); err != nil {
			fail(err)
			continue
		}
		if err := checkAlgorithm(in.DestinationEncryptionAlgorithm); err != nil {
			fail(err)
			continue
		}
		dst := g.sealer(s, ctx, api.OpReEncrypt, "kms:ReEncryptTo", in.DestinationKeyId, in.DestinationEncryptionContext, in.GrantTokens)
		if dst.err != nil {
			sink.Fail(i, &dst.rep, dst.err)
			continue
		}
		h, err := blobOf(in.CiphertextBlob, in.SourceEncryptionContext)
		if err != nil {
			fail(err)
			continue
		}
		src := g.opener(s, ctx, api.OpReEncrypt, "kms:ReEncryptFrom", blobRef{in.SourceKeyId, h.KeyID, h.KeyVersion}, in.SourceEncryptionContext, in.GrantTokens)
		if src.err != nil {
			sink.Fail(i, &src.rep, src.err)
			continue
		}
		p := g.pair(src, dst)
		if in.DryRun {
			sink.Fail(i, &p.rep, errDryRun(api.OpReEncrypt))
			continue
		}
		pt, err := src.open(scratch[:0], in.CiphertextBlob)
		if err != nil {
			sink.Fail(i, &p.rep, err)
			continue
		}
		*out = api.ReEncryptOutput{SourceKeyId: src.e.arn, KeyId: dst.e.arn,
			SourceEncryptionAlgorithm: api.AlgSymmetricDefault, DestinationEncryptionAlgorithm: api.AlgSymmetricDefault,
			SourceKeyMaterialId: src.matID, DestinationKeyMaterialId: dst.matID}
		err = sink.Answer(i, &p.rep, out, Fill{n: len(pt) + keystore.BlobOverhead, seal: dst, in: pt})
		clear(pt)
		if err != nil {
			sink.Fail(i, &p.rep, err)
		}
	}
}

// dataKeyLen is the length of the data key a request asks for: KeySpec
// (AES_256, AES_128) or NumberOfBytes (1..1024), exactly one of them.
func dataKeyLen(in *api.GenerateDataKeyInput) (int, error) {
	switch {
	case in.KeySpec != "" && in.NumberOfBytes != nil:
		return 0, errorf(api.CodeValidation, "give KeySpec or NumberOfBytes, not both")
	case in.KeySpec == api.DataKeySpecAES256:
		return 32, nil
	case in.KeySpec == api.DataKeySpecAES128:
		return 16, nil
	case in.KeySpec != "":
		return 0, errorf(api.CodeValidation, "KeySpec must be %s or %s", api.DataKeySpecAES256, api.DataKeySpecAES128)
	case in.NumberOfBytes == nil:
		return 0, errorf(api.CodeValidation, "KeySpec or NumberOfBytes is required")
	case *in.NumberOfBytes >= 1 && *in.NumberOfBytes <= MaxDataKeyBytes:
		return int(*in.NumberOfBytes), nil
	}
	return 0, errorf(api.CodeValidation, "NumberOfBytes must be 1 to %d", MaxDataKeyBytes)
}

// GenerateDataKeyBatch makes a fresh data key from crypto/rand for each
// item, encrypted under its key exactly as Encrypt would encrypt it, and
// in plaintext too.
func (s *Service) GenerateDataKeyBatch(ctx context.Context, items []api.GenerateDataKeyInput, sink Sink) {
	s.generateDataKeys(ctx, api.OpGenerateDataKey, items, sink)
}

// GenerateDataKeyWithoutPlaintextBatch is GenerateDataKeyBatch without
// the plaintexts in the answers.
func (s *Service) GenerateDataKeyWithoutPlaintextBatch(ctx context.Context, items []api.GenerateDataKeyInput, sink Sink) {
	s.generateDataKeys(ctx, api.OpGenerateDataKeyWithoutPlaintext, items, sink)
}

// generateDataKeys is the batch of data keys of op (GenerateDataKey or
// GenerateDataKeyWithoutPlaintext).
func (s *Service) generateDataKeys(ctx context.Context, op string, items []api.GenerateDataKeyInput, sink Sink) {
	var g groups
	defer g.release()
	out := new(api.GenerateDataKeyOutput)
	act := action(op)
	var keys randRun
	defer keys.wipe()
	for i := range items {
		in := &items[i]
		n, err := dataKeyLen(in)
		if err != nil {
			sink.Fail(i, failed(in.EncryptionContext), err)
			continue
		}
		z := g.sealer(s, ctx, op, act, in.KeyId, in.EncryptionContext, in.GrantTokens)
		if z.err != nil {
			sink.Fail(i, &z.rep, z.err)
			continue
		}
		if in.DryRun {
			sink.Fail(i, &z.rep, errDryRun(op))
			continue
		}
		pt, err := keys.take(n, n*(len(items)-i))
		if err != nil {
			sink.Fail(i, &z.rep, s.internal(op, err))
			continue
		}
		*out = api.GenerateDataKeyOutput{KeyId: z.e.arn, KeyMaterialId: z.matID}
		if op == api.OpGenerateDataKey {
			out.Plaintext = pt
		}
		err = sink.Answer(i, &z.rep, out, Fill{n: n + keystore.BlobOverhead, seal: z, in: pt})
		clear(pt)
		if err != nil {
			sink.Fail(i, &z.rep, err)
		}
	}
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
