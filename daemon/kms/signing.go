package kms

import (
	"context"

	"kmsd/keystore/keyspec"
	"kmsd/wire/api"
)

// keyItem is what one item of a batch of a key operation names: the key,
// the algorithm (and Sign's and Verify's message type), the grant tokens.
type keyItem struct {
	keyID, alg, mtype string
	tokens            []string
}

// eachKeyItem serves the n items of a batch of op: item i's key group
// (at(i)), then run with the key's material, under its read lock; run
// returns the answer and its large field (nil for none), or the item's
// failure.
func (s *Service) eachKeyItem(ctx context.Context, sink Sink, n int, op, usage string, at func(i int) keyItem,
	run func(i int, g *keyGroup, k *keyspec.Private) (api.Message, []byte, error)) {
	var gs keyGroups
	for i := range n {
		it := at(i)
		g := gs.get(s, ctx, op, action(op), it.keyID, usage, it.alg, it.mtype, it.tokens)
		if g.err != nil {
			sink.Fail(i, &g.rep, g.err)
			continue
		}
		var out api.Message
		var field []byte
		err := g.do(func(k *keyspec.Private) (err error) {
			out, field, err = run(i, g, k)
			return err
		})
		if err == nil {
			err = sink.Answer(i, &g.rep, out, rawFill(field))
		}
		if err != nil {
			sink.Fail(i, &g.rep, err)
		}
	}
}

// dryRunSign is Sign's and Verify's DryRun: the checks signing would make,
// then DryRunOperationException.
func dryRunSign(k *keyspec.Private, op, alg, mtype string, msg []byte) error {
	if err := k.CheckSign(alg, mtype, msg); err != nil {
		return err
	}
	return errDryRun(op)
}

// SignBatch signs each item's message (RAW) or digest (DIGEST) with its
// SIGN_VERIFY key and signing algorithm.
func (s *Service) SignBatch(ctx context.Context, items []api.SignInput, sink Sink) {
	out := new(api.SignOutput)
	s.eachKeyItem(ctx, sink, len(items), api.OpSign, api.KeyUsageSignVerify, func(i int) keyItem {
		return keyItem{items[i].KeyId, items[i].SigningAlgorithm, items[i].MessageType, items[i].GrantTokens}
	}, func(i int, g *keyGroup, k *keyspec.Private) (api.Message, []byte, error) {
		in := &items[i]
		if in.DryRun {
			return nil, nil, dryRunSign(k, api.OpSign, in.SigningAlgorithm, in.MessageType, in.Message)
		}
		sig, err := k.Sign(in.SigningAlgorithm, in.MessageType, in.Message)
		*out = api.SignOutput{KeyId: g.e.arn, SigningAlgorithm: in.SigningAlgorithm}
		return out, sig, err
	})
}

// VerifyBatch checks each item's signature with its SIGN_VERIFY key: one
// that does not verify is KMSInvalidSignatureException.
func (s *Service) VerifyBatch(ctx context.Context, items []api.VerifyInput, sink Sink) {
	out := new(api.VerifyOutput)
	s.eachKeyItem(ctx, sink, len(items), api.OpVerify, api.KeyUsageSignVerify, func(i int) keyItem {
		return keyItem{items[i].KeyId, items[i].SigningAlgorithm, items[i].MessageType, items[i].GrantTokens}
	}, func(i int, g *keyGroup, k *keyspec.Private) (api.Message, []byte, error) {
		in := &items[i]
		if in.DryRun {
			return nil, nil, dryRunSign(k, api.OpVerify, in.SigningAlgorithm, in.MessageType, in.Message)
		}
		*out = api.VerifyOutput{KeyId: g.e.arn, SignatureValid: true, SigningAlgorithm: in.SigningAlgorithm}
		return out, nil, k.Verify(in.SigningAlgorithm, in.MessageType, in.Message, in.Signature)
	})
}

// GenerateMacBatch computes each item's HMAC with its GENERATE_VERIFY_MAC
// key.
func (s *Service) GenerateMacBatch(ctx context.Context, items []api.GenerateMacInput, sink Sink) {
	out := new(api.GenerateMacOutput)
	s.eachKeyItem(ctx, sink, len(items), api.OpGenerateMac, api.KeyUsageMAC, func(i int) keyItem {
		return keyItem{keyID: items[i].KeyId, alg: items[i].MacAlgorithm, tokens: items[i].GrantTokens}
	}, func(i int, g *keyGroup, k *keyspec.Private) (api.Message, []byte, error) {
		in := &items[i]
		mac, err := k.MAC(in.MacAlgorithm, in.Message)
		if err == nil && in.DryRun {
			err = errDryRun(api.OpGenerateMac)
		}
		*out = api.GenerateMacOutput{KeyId: g.e.arn, MacAlgorithm: in.MacAlgorithm}
		return out, mac, err
	})
}

// VerifyMacBatch checks each item's MAC in constant time: one that does
// not verify is KMSInvalidMacException.
func (s *Service) VerifyMacBatch(ctx context.Context, items []api.VerifyMacInput, sink Sink) {
	out := new(api.VerifyMacOutput)
	s.eachKeyItem(ctx, sink, len(items), api.OpVerifyMac, api.KeyUsageMAC, func(i int) keyItem {
		return keyItem{keyID: items[i].KeyId, alg: items[i].MacAlgorithm, tokens: items[i].GrantTokens}
	}, func(i int, g *keyGroup, k *keyspec.Private) (api.Message, []byte, error) {
		in := &items[i]
		if in.DryRun {
			if _, err := k.MAC(in.MacAlgorithm, in.Message); err != nil {
				return nil, nil, err
			}
			return nil, nil, errDryRun(api.OpVerifyMac)
		}
		*out = api.VerifyMacOutput{KeyId: g.e.arn, MacValid: true, MacAlgorithm: in.MacAlgorithm}
		return out, nil, k.VerifyMAC(in.MacAlgorithm, in.Message, in.Mac)
	})
}

// Sign is SignBatch for one.
func (s *Service) Sign(ctx context.Context, in *api.SignInput) (*api.SignOutput, error) {
	o := &single[api.SignOutput]{ctx: ctx, set: func(out *api.SignOutput, b []byte) { out.Signature = b }}
	s.SignBatch(ctx, []api.SignInput{*in}, o)
	return o.result()
}

// Verify is VerifyBatch for one.
func (s *Service) Verify(ctx context.Context, in *api.VerifyInput) (*api.VerifyOutput, error) {
	o := &single[api.VerifyOutput]{ctx: ctx}
	s.VerifyBatch(ctx, []api.VerifyInput{*in}, o)
	return o.result()
}

// GenerateMac is GenerateMacBatch for one.
func (s *Service) GenerateMac(ctx context.Context, in *api.GenerateMacInput) (*api.GenerateMacOutput, error) {
	o := &single[api.GenerateMacOutput]{ctx: ctx, set: func(out *api.GenerateMacOutput, b []byte) { out.Mac = b }}
	s.GenerateMacBatch(ctx, []api.GenerateMacInput{*in}, o)
	return o.result()
}

// VerifyMac is VerifyMacBatch for one.
func (s *Service) VerifyMac(ctx context.Context, in *api.VerifyMacInput) (*api.VerifyMacOutput, error) {
	o := &single[api.VerifyMacOutput]{ctx: ctx}
	s.VerifyMacBatch(ctx, []api.VerifyMacInput{*in}, o)
	return o.result()
}

// report passes a group's report on to the Report of ctx, for the
// operations that are not batches.
func report(ctx context.Context, rep *Report) {
	if r := reportOf(ctx); r != nil {
		*r = *rep
	}
}

// DeriveSharedSecret computes ECDH with a KEY_AGREEMENT key and the
// peer's public key, and returns the raw shared secret.
func (s *Service) DeriveSharedSecret(ctx context.Context, in *api.DeriveSharedSecretInput) (*api.DeriveSharedSecretOutput, error) {
	g := s.newKeyGroup(ctx, api.OpDeriveSharedSecret, "kms:DeriveSharedSecret", in.KeyId, api.KeyUsageKeyAgreement, in.KeyAgreementAlgorithm, "", in.GrantTokens)
	defer report(ctx, &g.rep)
	if g.err != nil {
		return nil, g.err
	}
	var secret []byte
	err := g.do(func(k *keyspec.Private) (err error) {
		if secret, err = k.DeriveShared(in.KeyAgreementAlgorithm, in.PublicKey); err == nil && in.DryRun {
			clear(secret)
			err = errDryRun(api.OpDeriveSharedSecret)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return &api.DeriveSharedSecretOutput{KeyId: g.e.arn, SharedSecret: secret, KeyAgreementAlgorithm: in.KeyAgreementAlgorithm, KeyOrigin: g.e.rec.Origin}, nil
}

// GetPublicKey returns the public key of an asymmetric key, DER
// SubjectPublicKeyInfo, with its spec, usage and algorithms. Symmetric and
// HMAC keys have none: UnsupportedOperationException.
func (s *Service) GetPublicKey(ctx context.Context, in *api.GetPublicKeyInput) (*api.GetPublicKeyOutput, error) {
	var out *api.GetPublicKeyOutput
	err := s.view(ctx, api.OpGetPublicKey, in.KeyId, true, nil, func(e *entry) error {
		if isSymmetric(e.rec) || e.rec.KeyUsage == api.KeyUsageMAC {
			return errorf(api.CodeUnsupportedOperation, "%s is a %s key: it has no public key", e.arn, e.rec.KeySpec)
		}
		k, err := e.privateKey(s.root())
		if err != nil {
			return s.internal(api.OpGetPublicKey, err)
		}
		md := s.metadata(e)
		out = &api.GetPublicKeyOutput{KeyId: e.arn, PublicKey: k.PublicKeyDER(), CustomerMasterKeySpec: e.rec.KeySpec,
			KeySpec: e.rec.KeySpec, KeyUsage: e.rec.KeyUsage, EncryptionAlgorithms: md.EncryptionAlgorithms,
			SigningAlgorithms: md.SigningAlgorithms, KeyAgreementAlgorithms: md.KeyAgreementAlgorithms}
		return nil
	})
	return out, err
}
