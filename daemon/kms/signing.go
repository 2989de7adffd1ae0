package kms

import (
	"context"

	"kmsd/keystore/keyspec"
	"kmsd/wire/api"
)

// SignBatch signs each item's message (RAW) or digest (DIGEST) with its
// SIGN_VERIFY key and signing algorithm.
func (s *Service) SignBatch(ctx context.Context, items []api.SignInput, sink Sink) {
	var gs keyGroups
	out := new(api.SignOutput)
	for i := range items {
		in := &items[i]
		g := gs.get(s, ctx, api.OpSign, "kms:Sign", in.KeyId, api.KeyUsageSignVerify, in.SigningAlgorithm, in.MessageType, in.GrantTokens)
		if g.err != nil {
			sink.Fail(i, &g.rep, g.err)
			continue
		}
		var sig []byte
		err := g.do(func(k *keyspec.Private) (err error) {
			if in.DryRun {
				if err = k.CheckSign(in.SigningAlgorithm, in.MessageType, in.Message); err == nil {
					err = errDryRun(api.OpSign)
				}
				return err
			}
			sig, err = k.Sign(in.SigningAlgorithm, in.MessageType, in.Message)
			return err
		})
		if err != nil {
			sink.Fail(i, &g.rep, err)
			continue
		}
		*out = api.SignOutput{KeyId: g.e.arn, SigningAlgorithm: in.SigningAlgorithm}
		if err := sink.Answer(i, &g.rep, out, rawFill(sig)); err != nil {
			sink.Fail(i, &g.rep, err)
		}
	}
}

// VerifyBatch checks each item's signature with its SIGN_VERIFY key: one
// that does not verify is KMSInvalidSignatureException.
func (s *Service) VerifyBatch(ctx context.Context, items []api.VerifyInput, sink Sink) {
	var gs keyGroups
	out := new(api.VerifyOutput)
	for i := range items {
		in := &items[i]
		g := gs.get(s, ctx, api.OpVerify, "kms:Verify", in.KeyId, api.KeyUsageSignVerify, in.SigningAlgorithm, in.MessageType, in.GrantTokens)
		if g.err != nil {
			sink.Fail(i, &g.rep, g.err)
			continue
		}
		err := g.do(func(k *keyspec.Private) error {
			if in.DryRun {
				if err := k.CheckSign(in.SigningAlgorithm, in.MessageType, in.Message); err != nil {
					return err
				}
				return errDryRun(api.OpVerify)
			}
			return k.Verify(in.SigningAlgorithm, in.MessageType, in.Message, in.Signature)
		})
		if err != nil {
			sink.Fail(i, &g.rep, err)
			continue
		}
		*out = api.VerifyOutput{KeyId: g.e.arn, SignatureValid: true, SigningAlgorithm: in.SigningAlgorithm}
		if err := sink.Answer(i, &g.rep, out, Fill{}); err != nil {
			sink.Fail(i, &g.rep, err)
		}
	}
}

// GenerateMacBatch computes each item's HMAC with its GENERATE_VERIFY_MAC
// key.
func (s *Service) GenerateMacBatch(ctx context.Context, items []api.GenerateMacInput, sink Sink) {
	var gs keyGroups
	out := new(api.GenerateMacOutput)
	for i := range items {
		in := &items[i]
		g := gs.get(s, ctx, api.OpGenerateMac, "kms:GenerateMac", in.KeyId, api.KeyUsageMAC, in.MacAlgorithm, "", in.GrantTokens)
		if g.err != nil {
			sink.Fail(i, &g.rep, g.err)
			continue
		}
		var mac []byte
		err := g.do(func(k *keyspec.Private) (err error) {
			if mac, err = k.MAC(in.MacAlgorithm, in.Message); err == nil && in.DryRun {
				err = errDryRun(api.OpGenerateMac)
			}
			return err
		})
		if err != nil {
			sink.Fail(i, &g.rep, err)
			continue
		}
		*out = api.GenerateMacOutput{KeyId: g.e.arn, MacAlgorithm: in.MacAlgorithm}
		if err := sink.Answer(i, &g.rep, out, rawFill(mac)); err != nil {
			sink.Fail(i, &g.rep, err)
		}
	}
}

// VerifyMacBatch checks each item's MAC in constant time: one that does
// not verify is KMSInvalidMacException.
func (s *Service) VerifyMacBatch(ctx context.Context, items []api.VerifyMacInput, sink Sink) {
	var gs keyGroups
	out := new(api.VerifyMacOutput)
	for i := range items {
		in := &items[i]
		g := gs.get(s, ctx, api.OpVerifyMac, "kms:VerifyMac", in.KeyId, api.KeyUsageMAC, in.MacAlgorithm, "", in.GrantTokens)
		if g.err != nil {
			sink.Fail(i, &g.rep, g.err)
			continue
		}
		err := g.do(func(k *keyspec.Private) error {
			if in.DryRun {
				if _, err := k.MAC(in.MacAlgorithm, in.Message); err != nil {
					return err
				}
				return errDryRun(api.OpVerifyMac)
			}
			return k.VerifyMAC(in.MacAlgorithm, in.Message, in.Mac)
		})
		if err != nil {
			sink.Fail(i, &g.rep, err)
			continue
		}
		*out = api.VerifyMacOutput{KeyId: g.e.arn, MacValid: true, MacAlgorithm: in.MacAlgorithm}
		if err := sink.Answer(i, &g.rep, out, Fill{}); err != nil {
			sink.Fail(i, &g.rep, err)
		}
	}
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
