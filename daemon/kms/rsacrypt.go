package kms

import (
	"context"
	"strings"

	"kmsd/keystore"
	"kmsd/keystore/keyspec"
	"kmsd/wire/api"
)

// Encrypt, Decrypt and ReEncrypt with an RSA key of usage ENCRYPT_DECRYPT:
// RSAES-OAEP with SHA-1 or SHA-256, as AWS. The ciphertext is the bare
// RSA ciphertext, which names neither key nor algorithm: Decrypt needs
// both. No encryption context is bound.

// isRSA reports whether an EncryptionAlgorithm is RSA's.
func isRSA(alg string) bool { return strings.HasPrefix(alg, "RSAES_") }

// symmetricOnly refuses a key of another spec for a symmetric operation.
func symmetricOnly(e *entry, op string) error {
	if e.rec.KeyUsage == api.KeyUsageEncryptDecrypt {
		return errorf(api.CodeInvalidKeyUsage, "%s is a %s key: %s with it takes EncryptionAlgorithm RSAES_OAEP_SHA_1 or RSAES_OAEP_SHA_256", e.arn, e.rec.KeySpec, op)
	}
	return usageError(e, op, api.KeyUsageEncryptDecrypt)
}

// noContext refuses an encryption context with an RSA algorithm.
func noContext(ec map[string]string, alg string) error {
	if len(ec) > 0 {
		return errorf(api.CodeValidation, "an EncryptionContext is not accepted with %s: only symmetric encryption binds one", alg)
	}
	return nil
}

// encryptRSA is item i of EncryptBatch with an RSA algorithm.
func (s *Service) encryptRSA(ctx context.Context, gs *keyGroups, i int, in *api.EncryptInput, sink Sink) {
	if err := noContext(in.EncryptionContext, in.EncryptionAlgorithm); err != nil {
		sink.Fail(i, failed(in.EncryptionContext), err)
		return
	}
	g := gs.get(s, ctx, api.OpEncrypt, "kms:Encrypt", in.KeyId, api.KeyUsageEncryptDecrypt, in.EncryptionAlgorithm, "", in.GrantTokens)
	if g.err != nil {
		sink.Fail(i, &g.rep, g.err)
		return
	}
	var ct []byte
	err := g.do(func(k *keyspec.Private) (err error) {
		if ct, err = k.Encrypt(in.EncryptionAlgorithm, in.Plaintext); err == nil && in.DryRun {
			err = errDryRun(api.OpEncrypt)
		}
		return err
	})
	if err != nil {
		sink.Fail(i, &g.rep, err)
		return
	}
	out := &api.EncryptOutput{KeyId: g.e.arn, EncryptionAlgorithm: in.EncryptionAlgorithm, KeyMaterialId: g.e.matIDs[0]}
	if err := sink.Answer(i, &g.rep, out, rawFill(ct)); err != nil {
		sink.Fail(i, &g.rep, err)
	}
}

// decryptRSA is item i of DecryptBatch with an RSA algorithm.
func (s *Service) decryptRSA(ctx context.Context, gs *keyGroups, i int, in *api.DecryptInput, sink Sink) {
	fail := func(err error) { sink.Fail(i, failed(in.EncryptionContext), err) }
	switch {
	case in.KeyId == "":
		fail(errorf(api.CodeValidation, "KeyId is required with %s: an RSA ciphertext does not name its key", in.EncryptionAlgorithm))
		return
	case len(in.CiphertextBlob) < 1 || len(in.CiphertextBlob) > MaxCiphertextBlob:
		fail(errorf(api.CodeValidation, "CiphertextBlob must be 1 to %d bytes", MaxCiphertextBlob))
		return
	}
	if err := noContext(in.EncryptionContext, in.EncryptionAlgorithm); err != nil {
		fail(err)
		return
	}
	g := gs.get(s, ctx, api.OpDecrypt, "kms:Decrypt", in.KeyId, api.KeyUsageEncryptDecrypt, in.EncryptionAlgorithm, "", in.GrantTokens)
	if g.err != nil {
		sink.Fail(i, &g.rep, g.err)
		return
	}
	var pt []byte
	err := g.do(func(k *keyspec.Private) (err error) {
		if pt, err = k.Decrypt(in.EncryptionAlgorithm, in.CiphertextBlob); err == nil && in.DryRun {
			err = errDryRun(api.OpDecrypt)
		}
		return err
	})
	defer clear(pt)
	if err != nil {
		sink.Fail(i, &g.rep, err)
		return
	}
	out := &api.DecryptOutput{KeyId: g.e.arn, EncryptionAlgorithm: in.EncryptionAlgorithm, KeyMaterialId: g.e.matIDs[0]}
	if err := sink.Answer(i, &g.rep, out, rawFill(pt)); err != nil {
		sink.Fail(i, &g.rep, err)
	}
}

// reEncryptRSA is item i of ReEncryptBatch when the source or the
// destination is an RSA algorithm: the plaintext is opened (RSA or
// symmetric), sealed again (RSA or symmetric) and zeroed, never returned.
func (s *Service) reEncryptRSA(ctx context.Context, g *groups, gs *keyGroups, i int, in *api.ReEncryptInput, sink Sink, scratch []byte) {
	fail := func(rep *Report, err error) { sink.Fail(i, rep, err) }
	srcAlg, dstAlg := cmpOrDefault(in.SourceEncryptionAlgorithm), cmpOrDefault(in.DestinationEncryptionAlgorithm)
	var pt []byte
	var rep Report
	out := &api.ReEncryptOutput{SourceEncryptionAlgorithm: srcAlg, DestinationEncryptionAlgorithm: dstAlg}
	if isRSA(srcAlg) {
		if in.SourceKeyId == "" {
			fail(failed(in.SourceEncryptionContext), errorf(api.CodeValidation, "SourceKeyId is required with %s: an RSA ciphertext does not name its key", srcAlg))
			return
		}
		if err := noContext(in.SourceEncryptionContext, srcAlg); err != nil {
			fail(failed(in.SourceEncryptionContext), err)
			return
		}
		src := gs.get(s, ctx, api.OpReEncrypt, "kms:ReEncryptFrom", in.SourceKeyId, api.KeyUsageEncryptDecrypt, srcAlg, "", in.GrantTokens)
		if src.err != nil {
			fail(&src.rep, src.err)
			return
		}
		rep = src.rep
		err := src.do(func(k *keyspec.Private) (err error) {
			pt, err = k.Decrypt(srcAlg, in.CiphertextBlob)
			return err
		})
		if err != nil {
			fail(&rep, err)
			return
		}
		out.SourceKeyId, out.SourceKeyMaterialId = src.e.arn, src.e.matIDs[0]
	} else {
		if err := checkAlgorithm(srcAlg); err != nil {
			fail(failed(in.SourceEncryptionContext), err)
			return
		}
		h, err := blobOf(in.CiphertextBlob, in.SourceEncryptionContext)
		if err != nil {
			fail(failed(in.SourceEncryptionContext), err)
			return
		}
		src := g.opener(s, ctx, api.OpReEncrypt, "kms:ReEncryptFrom", blobRef{in.SourceKeyId, h.KeyID, h.KeyVersion}, in.SourceEncryptionContext, in.GrantTokens)
		if src.err != nil {
			fail(&src.rep, src.err)
			return
		}
		rep = src.rep
		if pt, err = src.open(scratch, in.CiphertextBlob); err != nil {
			fail(&rep, err)
			return
		}
		g.unhold() // before the destination's key is locked
		out.SourceKeyId, out.SourceKeyMaterialId = src.e.arn, src.matID
	}
	defer clear(pt)
	if isRSA(dstAlg) {
		if err := noContext(in.DestinationEncryptionContext, dstAlg); err != nil {
			fail(&rep, err)
			return
		}
		dst := gs.get(s, ctx, api.OpReEncrypt, "kms:ReEncryptTo", in.DestinationKeyId, api.KeyUsageEncryptDecrypt, dstAlg, "", in.GrantTokens)
		if dst.err != nil {
			fail(&dst.rep, dst.err)
			return
		}
		rep.KeyID, rep.KeyVersion = dst.rep.KeyID, dst.rep.KeyVersion
		var ct []byte
		err := dst.do(func(k *keyspec.Private) (err error) {
			if ct, err = k.Encrypt(dstAlg, pt); err == nil && in.DryRun {
				err = errDryRun(api.OpReEncrypt)
			}
			return err
		})
		if err != nil {
			fail(&rep, err)
			return
		}
		out.KeyId, out.DestinationKeyMaterialId = dst.e.arn, dst.e.matIDs[0]
		if err := sink.Answer(i, &rep, out, rawFill(ct)); err != nil {
			fail(&rep, err)
		}
		return
	}
	if err := checkAlgorithm(dstAlg); err != nil {
		fail(&rep, err)
		return
	}
	dst := g.sealer(s, ctx, api.OpReEncrypt, "kms:ReEncryptTo", in.DestinationKeyId, in.DestinationEncryptionContext, in.GrantTokens)
	if dst.err != nil {
		fail(&dst.rep, dst.err)
		return
	}
	rep.KeyID, rep.KeyVersion, rep.DestContext = dst.rep.KeyID, dst.rep.KeyVersion, in.DestinationEncryptionContext
	if in.DryRun {
		fail(&rep, errDryRun(api.OpReEncrypt))
		return
	}
	out.KeyId, out.DestinationKeyMaterialId = dst.e.arn, dst.matID
	if err := sink.Answer(i, &rep, out, Fill{n: len(pt) + keystore.BlobOverhead, seal: dst, in: pt}); err != nil {
		fail(&rep, err)
	}
}

// cmpOrDefault is an EncryptionAlgorithm with its default.
func cmpOrDefault(alg string) string {
	if alg == "" {
		return api.AlgSymmetricDefault
	}
	return alg
}
