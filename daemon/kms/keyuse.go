package kms

import (
	"context"
	"errors"
	"slices"
	"strings"

	"kmsd/keystore"
	"kmsd/keystore/keyspec"
	"kmsd/wire/api"
)

// The keys of the other specs (RSA, elliptic-curve, HMAC, ML-DSA: package
// keyspec) have one version, sealed in format 2, and one usage. A request
// that uses one resolves, authorizes and checks the key once for the items
// of a batch that share the key, algorithm and grant tokens (a keyGroup),
// then does each item under the key's read lock, so that a key disabled
// meanwhile is refused.

// privateKey returns e's material, unsealing it on first use. The caller
// holds e.mu.
func (e *entry) privateKey(root *keystore.RootKey) (*keyspec.Private, error) {
	if k := e.private.Load(); k != nil {
		return k, nil
	}
	spec := keyspec.Lookup(e.rec.KeySpec)
	if spec == nil || len(e.rec.Versions) != 1 {
		return nil, errors.New("the key has no material of its spec")
	}
	raw, err := root.UnsealKey(e.id, 1, e.rec.Versions[0].Sealed)
	if err != nil {
		return nil, err
	}
	defer clear(raw)
	k, err := keyspec.Parse(spec, raw)
	if err != nil {
		return nil, err
	}
	if !e.private.CompareAndSwap(nil, k) {
		k.Wipe()
		k = e.private.Load()
	}
	return k, nil
}

// usageError is InvalidKeyUsageException for a key used against its
// usage.
func usageError(e *entry, op, want string) error {
	return errorf(api.CodeInvalidKeyUsage, "%s is a %s key of usage %s; %s needs a key of usage %s", e.arn, e.rec.KeySpec, e.rec.KeyUsage, op, want)
}

// keyGroup is one key used by one caller for one operation, algorithm and
// set of grant tokens.
type keyGroup struct {
	s      *Service
	op     string
	keyID  string
	alg    string
	mtype  string // Sign's and Verify's MessageType
	tokens []string
	rep    Report
	err    error
	e      *entry
	// rsaUID is the caller, charged for each RSA private-key operation
	// (rsaquota.go), if the group's operation uses the private key.
	rsaUID     uint32
	rsaPrivate bool
}

func (s *Service) newKeyGroup(ctx context.Context, op, act, keyID, usage, alg, mtype string, tokens []string) *keyGroup {
	g := &keyGroup{s: s, op: op, keyID: keyID, alg: alg, mtype: mtype, tokens: tokens}
	if p, err := principalOf(ctx); err == nil {
		g.rsaUID = p.UID
		g.rsaPrivate = act == "kms:Sign" || act == "kms:Decrypt" || act == "kms:ReEncryptFrom"
	}
	ctx = withReport(ctx, &g.rep)
	s.noteAlias(ctx, keyID)
	if g.e, g.err = s.resolve(ctx, keyID, true); g.err != nil {
		return g
	}
	e := g.e
	e.mu.RLock()
	defer e.mu.RUnlock()
	if _, g.err = s.authorizeAlg(ctx, e, act, nil, tokens, alg, mtype); g.err != nil {
		return g
	}
	if g.err = checkState(op, e); g.err != nil {
		return g
	}
	if isSymmetric(e.rec) || e.rec.KeyUsage != usage {
		g.err = usageError(e, op, usage)
		return g
	}
	noteVersion(ctx, act, 1)
	return g
}

// do runs fn with the key's material under its read lock, the key's state
// checked again.
func (g *keyGroup) do(fn func(k *keyspec.Private) error) error {
	e := g.e
	e.mu.RLock()
	defer e.mu.RUnlock()
	if err := checkState(g.op, e); err != nil {
		return err
	}
	k, err := e.privateKey(g.s.root())
	if err != nil {
		return g.s.internal(g.op, err)
	}
	if g.rsaPrivate && k.Spec().IsRSA() {
		if err := g.s.rsaQuota.take(g.rsaUID, k.Spec()); err != nil {
			return err
		}
	}
	return g.s.specError(g.op, fn(k))
}

// keyGroups are a batch's key groups, as groups are for symmetric keys.
type keyGroups []*keyGroup

func (gs *keyGroups) get(s *Service, ctx context.Context, op, act, keyID, usage, alg, mtype string, tokens []string) *keyGroup {
	for i := len(*gs) - 1; i >= 0; i-- {
		if g := (*gs)[i]; g.op == op && g.keyID == keyID && g.alg == alg && g.mtype == mtype && slices.Equal(g.tokens, tokens) {
			return g
		}
	}
	g := s.newKeyGroup(ctx, op, act, keyID, usage, alg, mtype, tokens)
	if len(*gs) < maxGroups {
		*gs = append(*gs, g)
	} else {
		(*gs)[len(*gs)-1] = g
	}
	return g
}

// errDryRun answers a DryRun request that would have succeeded.
func errDryRun(op string) error {
	return errorf(api.CodeDryRunOperation, "%s would have succeeded; DryRun is set, so nothing was done", op)
}

// specError turns package keyspec's errors into AWS's exceptions.
func (s *Service) specError(op string, err error) error {
	if err == nil {
		return nil
	}
	var ae *api.Error
	if errors.As(err, &ae) {
		return err
	}
	msg := func(sentinel error) string { return strings.TrimPrefix(err.Error(), sentinel.Error()+": ") }
	switch {
	case errors.Is(err, keyspec.ErrSignature):
		return errorf(api.CodeInvalidSignature, "the signature does not verify with the key, the message and the signing algorithm")
	case errors.Is(err, keyspec.ErrMAC):
		return errorf(api.CodeInvalidMac, "the MAC does not verify with the key, the message and the MAC algorithm")
	case errors.Is(err, keyspec.ErrAlgorithm):
		return errorf(api.CodeInvalidKeyUsage, "%s", msg(keyspec.ErrAlgorithm))
	case errors.Is(err, keyspec.ErrInput):
		return errorf(api.CodeValidation, "%s", msg(keyspec.ErrInput))
	case errors.Is(err, keyspec.ErrCiphertext):
		return errorf(api.CodeInvalidCiphertext, "the ciphertext does not decrypt with the key and the encryption algorithm")
	}
	return s.internal(op, err)
}
