package kms

import (
	"context"
	"errors"

	"kmsd/keystore"
	"kmsd/keystore/hsm"
	"kmsd/wire/api"
)

// sealer seals plaintexts under one key for one caller, operation and
// encryption context: the context parsed, the key resolved, the caller
// authorized and the key's state checked once, for every item alike. It
// seals with the version that was current when it was made.
type sealer struct {
	s     *Service
	g     *groups // the batch's groups, which hold e's lock across a run; nil: made alone
	op    string
	keyID string // as the items name the key
	ecMap map[string]string
	// tokens are the items' grant tokens.
	tokens []string
	rep    Report
	err    error // the group's failure: every item fails with it

	e     *entry
	ec    *keystore.Context
	v     uint32
	m     *keystore.Material
	matID string
	hsm   *hsm.Token // for a key in a custom key store: the token seals

	nonces keystore.NonceRun // the group's seals are one goroutine's, in turn
}

func (s *Service) newSealer(ctx context.Context, op, act, keyID string, ec map[string]string, tokens []string) *sealer {
	z := &sealer{s: s, op: op, keyID: keyID, ecMap: ec, tokens: tokens, rep: Report{Context: ec}}
	ctx = withReport(ctx, &z.rep)
	if z.ec, z.err = parseContext(ec); z.err != nil {
		return z
	}
	if z.e, z.err = s.resolveUse(ctx, keyID); z.err != nil {
		return z
	}
	e := z.e
	e.mu.RLock()
	defer e.mu.RUnlock()
	if _, z.err = s.authorize(ctx, e, act, z.ec, tokens); z.err != nil {
		return z
	}
	if z.err = checkState(op, e); z.err != nil {
		return z
	}
	if !isSymmetric(e.rec) {
		z.err = symmetricOnly(e, op)
		return z
	}
	if e.rec.CustomKeyStoreId != "" {
		z.v, z.matID = 1, keyMaterialID(e.id, 1)
		noteVersion(ctx, act, z.v)
		z.hsm, z.err = s.tokenOf(e)
		return z
	}
	z.v = uint32(len(e.rec.Versions))
	noteVersion(ctx, act, z.v)
	if z.m, z.err = e.material(s.root(), z.v); z.err != nil {
		z.err = s.internal(op, z.err)
		return z
	}
	z.matID = e.matIDs[z.v-1]
	return z
}

// seal appends the blob of plaintext to dst. A key disabled (or deleted)
// since the sealer was made is refused as the key's state says.
func (z *sealer) seal(dst, plaintext []byte) ([]byte, error) {
	e := z.e
	if !z.g.rlock(e) {
		defer e.mu.RUnlock()
	}
	if z.hsm != nil {
		if err := checkState(z.op, e); err != nil {
			return dst, err
		}
		tok, err := z.s.tokenOf(e) // the store may have been disconnected since
		if err != nil {
			return dst, err
		}
		label := e.id.String()
		out, err := keystore.SealBlobExternal(dst, func(dst, iv, aad, pt []byte) ([]byte, error) {
			return tok.Seal(label, dst, iv, aad, pt)
		}, e.id, z.v, z.ec, plaintext)
		if err != nil {
			return dst, z.s.internal(z.op, err)
		}
		return out, nil
	}
	m, err := current(z.s, z.op, e, z.v, z.m)
	if err != nil {
		return dst, err
	}
	out, err := keystore.SealBlobContext(dst, m, &z.nonces, z.s.suite, e.id, z.ec, plaintext)
	if err != nil {
		return dst, z.s.internal(z.op, err)
	}
	return out, nil
}

// current returns version v of e's material: m, as the group took it, or,
// if the key was disabled and enabled again since (its material wiped and
// unsealed anew), the material now; a key no longer usable is refused as
// its state says. The caller holds e.mu.
func current(s *Service, op string, e *entry, v uint32, m *keystore.Material) (*keystore.Material, error) {
	if !e.deleted && int(v) <= len(e.mats) && e.mats[v-1].Load() == m {
		return m, nil
	}
	if err := checkState(op, e); err != nil {
		return nil, err
	}
	m, err := e.material(s.root(), v)
	if err != nil {
		return nil, s.internal(op, err)
	}
	return m, nil
}

func (z *sealer) release() { z.ec.Release() }

// blobRef is what groups blobs for opening: the key id the items give (if
// any), and the key and version the blob's header names.
type blobRef struct {
	keyID   string
	key     keystore.KeyID
	version uint32
}

// opener opens blobs of one key version for one caller, operation and
// encryption context, resolved and authorized once.
type opener struct {
	s      *Service
	g      *groups // as sealer's
	op     string
	blob   blobRef
	ecMap  map[string]string
	tokens []string
	rep    Report
	err    error

	e     *entry
	ec    *keystore.Context
	m     *keystore.Material
	matID string
	hsm   *hsm.Token // for a key in a custom key store: the token opens
}

func (s *Service) newOpener(ctx context.Context, op, act string, b blobRef, ec map[string]string, tokens []string) *opener {
	o := &opener{s: s, op: op, blob: b, ecMap: ec, tokens: tokens, rep: Report{Context: ec}}
	ctx = withReport(ctx, &o.rep)
	if o.ec, o.err = parseContext(ec); o.err != nil {
		return o
	}
	if o.e, o.err = s.blobKey(ctx, b); o.err != nil {
		return o
	}
	e := o.e
	e.mu.RLock()
	defer e.mu.RUnlock()
	if _, o.err = s.authorize(ctx, e, act, o.ec, tokens); o.err != nil {
		return o
	}
	if o.err = checkState(op, e); o.err != nil {
		return o
	}
	if !isSymmetric(e.rec) {
		o.err = symmetricOnly(e, op)
		return o
	}
	if e.rec.CustomKeyStoreId != "" {
		if b.version != 1 {
			o.err = errorf(api.CodeInvalidCiphertext, "the ciphertext is damaged or was not made by this kmsd")
			return o
		}
		noteVersion(ctx, act, 1)
		o.matID = keyMaterialID(e.id, 1)
		o.hsm, o.err = s.tokenOf(e)
		return o
	}
	if b.version == 0 || int(b.version) > len(e.rec.Versions) {
		o.err = errorf(api.CodeInvalidCiphertext, "the ciphertext is damaged or was not made by this kmsd")
		return o
	}
	noteVersion(ctx, act, b.version)
	if o.m, o.err = e.material(s.root(), b.version); o.err != nil {
		o.err = s.internal(op, o.err)
		return o
	}
	o.matID = e.matIDs[b.version-1]
	return o
}

// blobKey finds the key a blob names; a key id the items give must be it.
func (s *Service) blobKey(ctx context.Context, b blobRef) (*entry, error) {
	if b.keyID == "" {
		if err := s.checkFresh(); err != nil {
			return nil, err
		}
		if e := s.lookup(b.key); e != nil {
			return e, nil
		}
		return nil, notFound(s.keyARN(b.key)) // deleted, or never here
	}
	s.noteAlias(ctx, b.keyID)
	e, err := s.resolve(ctx, b.keyID, true)
	if err != nil {
		return nil, err
	}
	if e.id != b.key {
		return nil, errorf(api.CodeIncorrectKey, "the ciphertext was not encrypted under %s", e.arn)
	}
	return e, nil
}

// open appends the plaintext of blob to dst. Any authentication failure
// is InvalidCiphertextException.
func (o *opener) open(dst, blob []byte) ([]byte, error) {
	e := o.e
	if !o.g.rlock(e) {
		defer e.mu.RUnlock()
	}
	var out []byte
	var err error
	if o.hsm != nil {
		if err := checkState(o.op, e); err != nil {
			return dst, err
		}
		tok, terr := o.s.tokenOf(e) // the store may have been disconnected since
		if terr != nil {
			return dst, terr
		}
		label := e.id.String()
		out, err = keystore.OpenBlobExternal(dst, func(dst, iv, aad, ct []byte) ([]byte, error) {
			return tok.Open(label, dst, iv, aad, ct)
		}, e.id, 1, o.ec, blob)
	} else {
		m, cerr := current(o.s, o.op, e, o.blob.version, o.m)
		if cerr != nil {
			return dst, cerr
		}
		out, err = keystore.OpenBlobContext(dst, m, e.id, o.ec, blob)
	}
	if errors.Is(err, keystore.ErrBlob) {
		return dst, errorf(api.CodeInvalidCiphertext, "the ciphertext or its encryption context does not authenticate")
	} else if err != nil {
		return dst, o.s.internal(o.op, err)
	}
	return out, nil
}

func (o *opener) release() { o.ec.Release() }
