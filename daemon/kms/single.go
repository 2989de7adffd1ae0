package kms

import (
	"context"

	"kmsd/wire/api"
)

// single is the Sink of a request of one item: it keeps the answer, its
// large field written into a buffer of its own, and passes what the item
// resolved on to the Report of the request's context, if it has one.
type single[Out any] struct {
	ctx context.Context
	out Out
	err error
	// set puts the large field into the output.
	set func(*Out, []byte)
}

func (o *single[Out]) Answer(_ int, rep *Report, out api.Message, f Fill) error {
	b, err := f.AppendTo(make([]byte, 0, f.Len()))
	if err != nil {
		return err
	}
	o.out = *any(out).(*Out)
	if o.set != nil {
		o.set(&o.out, b)
	}
	o.report(rep)
	return nil
}

func (o *single[Out]) Fail(_ int, rep *Report, err error) {
	o.err = err
	o.report(rep)
}

func (o *single[Out]) report(rep *Report) {
	if r := reportOf(o.ctx); r != nil {
		*r = *rep
	}
}

func (o *single[Out]) result() (*Out, error) {
	if o.err != nil {
		return nil, o.err
	}
	return &o.out, nil
}

// Encrypt seals 1 to 4096 bytes under the current version of a key
// (alias allowed), binding the encryption context: EncryptBatch for one.
func (s *Service) Encrypt(ctx context.Context, in *api.EncryptInput) (*api.EncryptOutput, error) {
	o := &single[api.EncryptOutput]{ctx: ctx, set: func(out *api.EncryptOutput, b []byte) { out.CiphertextBlob = b }}
	s.EncryptBatch(ctx, []api.EncryptInput{*in}, o)
	return o.result()
}

// Decrypt opens a blob made by Encrypt, GenerateDataKey or ReEncrypt with
// the same encryption context: DecryptBatch for one.
func (s *Service) Decrypt(ctx context.Context, in *api.DecryptInput) (*api.DecryptOutput, error) {
	o := &single[api.DecryptOutput]{ctx: ctx, set: func(out *api.DecryptOutput, b []byte) { out.Plaintext = b }}
	s.DecryptBatch(ctx, []api.DecryptInput{*in}, o)
	return o.result()
}

// ReEncrypt decrypts a blob and encrypts its plaintext under another key
// or context inside the service: ReEncryptBatch for one.
func (s *Service) ReEncrypt(ctx context.Context, in *api.ReEncryptInput) (*api.ReEncryptOutput, error) {
	o := &single[api.ReEncryptOutput]{ctx: ctx, set: func(out *api.ReEncryptOutput, b []byte) { out.CiphertextBlob = b }}
	s.ReEncryptBatch(ctx, []api.ReEncryptInput{*in}, o)
	return o.result()
}

// GenerateDataKey returns a fresh data key in plaintext and encrypted
// under a key: GenerateDataKeyBatch for one.
func (s *Service) GenerateDataKey(ctx context.Context, in *api.GenerateDataKeyInput) (*api.GenerateDataKeyOutput, error) {
	return s.generateDataKey(ctx, api.OpGenerateDataKey, in)
}

// GenerateDataKeyWithoutPlaintext is GenerateDataKey without the plaintext
// in the response; the service zeroes it.
func (s *Service) GenerateDataKeyWithoutPlaintext(ctx context.Context, in *api.GenerateDataKeyInput) (*api.GenerateDataKeyOutput, error) {
	return s.generateDataKey(ctx, api.OpGenerateDataKeyWithoutPlaintext, in)
}

func (s *Service) generateDataKey(ctx context.Context, op string, in *api.GenerateDataKeyInput) (*api.GenerateDataKeyOutput, error) {
	o := &single[api.GenerateDataKeyOutput]{ctx: ctx, set: func(out *api.GenerateDataKeyOutput, b []byte) {
		// The plaintext the batch lent is wiped when Answer returns: keep a copy.
		out.CiphertextBlob, out.Plaintext = b, append([]byte(nil), out.Plaintext...)
	}}
	s.generateDataKeys(ctx, op, []api.GenerateDataKeyInput{*in}, o)
	return o.result()
}
