package kms

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"maps"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"kmsd/daemon/policy"
	"kmsd/keystore"
	"kmsd/wire/api"
)

// Grant operations, and the policy action each one allows.
var grantOps = map[string]string{
	"Encrypt": "kms:Encrypt", "Decrypt": "kms:Decrypt", "ReEncryptFrom": "kms:ReEncryptFrom", "ReEncryptTo": "kms:ReEncryptTo",
	"GenerateDataKey": "kms:GenerateDataKey", "GenerateDataKeyWithoutPlaintext": "kms:GenerateDataKeyWithoutPlaintext",
	"DescribeKey": "kms:DescribeKey", "CreateGrant": "kms:CreateGrant", "RetireGrant": "kms:RetireGrant",
	"Sign": "kms:Sign", "Verify": "kms:Verify", "GetPublicKey": "kms:GetPublicKey",
	"GenerateMac": "kms:GenerateMac", "VerifyMac": "kms:VerifyMac", "DeriveSharedSecret": "kms:DeriveSharedSecret",
	"GenerateDataKeyPair": "kms:GenerateDataKeyPair", "GenerateDataKeyPairWithoutPlaintext": "kms:GenerateDataKeyPairWithoutPlaintext",
}

const (
	maxGrantTokens        = 10
	maxGrantTokenLen      = 8192
	maxConstraintPairs    = 8
	maxConstraintValueLen = 384
	grantTokenPrefix      = "kmsdgt1_"
)

var grantNameRE = regexp.MustCompile(`^[a-zA-Z0-9:/_-]{1,256}$`)

// loadGrant prepares a stored grant. Its principals were checked when it
// was made; one whose user no longer resolves matches nobody.
func (s *Service) loadGrant(r *keystore.GrantRecord) (*grant, error) {
	g := &grant{rec: r, actions: map[string]bool{}}
	var err error
	if g.grantee, err = policy.ParsePrincipal(r.GranteePrincipal, s.resolver); err != nil {
		s.log.Warn("grantee does not resolve; the grant matches nobody", "grant", r.GrantID, "err", err)
		g.grantee = policy.HostPrincipal{Text: r.GranteePrincipal, Kind: policy.Unit} // matches no caller
	}
	if r.RetiringPrincipal != "" {
		rp, err := policy.ParsePrincipal(r.RetiringPrincipal, s.resolver)
		if err == nil {
			g.retiring = &rp
		}
	}
	for _, op := range r.Operations {
		g.actions[grantOps[op]] = true
	}
	return g, nil
}

// parseGrantPrincipal accepts the principals a grant may name: one user or
// one unit (as in AWS, not a group, not everyone).
func (s *Service) parseGrantPrincipal(field, v string) (policy.HostPrincipal, error) {
	h, err := policy.ParsePrincipal(v, s.resolver)
	if err != nil {
		return h, errorf(api.CodeValidation, "%s: %v", field, err)
	}
	if h.Kind != policy.UID && h.Kind != policy.Unit {
		return h, errorf(api.CodeValidation, "%s must be uid:N, user:NAME or unit:NAME, not %q", field, v)
	}
	return h, nil
}

func checkConstraint(name string, m map[string]string) error {
	if m == nil {
		return nil
	}
	if len(m) > maxConstraintPairs {
		return errorf(api.CodeValidation, "%s has %d pairs, at most %d", name, len(m), maxConstraintPairs)
	}
	for k, v := range m {
		if utf8.RuneCountInString(v) > maxConstraintValueLen {
			return errorf(api.CodeValidation, "%s: the value of %q is over %d characters", name, k, maxConstraintValueLen)
		}
	}
	return checkContext(m)
}

// narrower reports whether a child grant's operations and constraints are
// within its parent's, as a grant made under a CreateGrant grant must be.
func narrower(child *api.CreateGrantInput, parent *grant) bool {
	for _, op := range child.Operations {
		if !parent.actions[grantOps[op]] {
			return false
		}
	}
	pc, cc := parent.rec, child.Constraints
	if pc.ContextEquals != nil {
		return maps.Equal(cc.EncryptionContextEquals, pc.ContextEquals)
	}
	for k, v := range pc.ContextSubset {
		inSubset := cc.EncryptionContextSubset != nil && cc.EncryptionContextSubset[k] == v
		inEquals := cc.EncryptionContextEquals != nil && cc.EncryptionContextEquals[k] == v
		_, subHas := cc.EncryptionContextSubset[k]
		_, eqHas := cc.EncryptionContextEquals[k]
		if !(inSubset && subHas || inEquals && eqHas) {
			return false
		}
	}
	return true
}

// CreateGrant lets GranteePrincipal call Operations on a key, optionally
// only with a given encryption context. The caller needs kms:CreateGrant
// from the key policy, or a grant that includes CreateGrant, in which case
// the new grant may only narrow it. A retry with the same Name and the same
// parameters returns the same GrantId (and a new token).
func (s *Service) CreateGrant(ctx context.Context, in *api.CreateGrantInput) (*api.CreateGrantOutput, error) {
	if err := s.checkOpen(); err != nil {
		return nil, err
	}
	grantee, err := s.checkGrantInput(in)
	if err != nil {
		return nil, err
	}
	e, err := s.resolve(ctx, in.KeyId, false)
	if err != nil {
		return nil, err
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	a, err := s.authorizeGrant(ctx, e, in)
	if err != nil {
		return nil, err
	}
	ops := slices.Compact(slices.Sorted(slices.Values(in.Operations)))
	if r := sameGrant(a, in, ops); r != nil {
		return &api.CreateGrantOutput{GrantId: r.GrantID, GrantToken: grantToken(e.id, r.GrantID)}, nil
	}
	if len(a.grants) >= s.cfg.Quotas.GrantsPerKey {
		return nil, errorf(api.CodeLimitExceeded, "%s has %d grants, the most allowed", e.arn, s.cfg.Quotas.GrantsPerKey)
	}
	var raw [32]byte
	rand.Read(raw[:])
	rec := &keystore.GrantRecord{
		KeyID: e.id, GrantID: hex.EncodeToString(raw[:]), Name: in.Name, CreationDate: s.now().UTC(),
		GranteePrincipal: in.GranteePrincipal, RetiringPrincipal: in.RetiringPrincipal, Operations: ops,
		ContextSubset: in.Constraints.EncryptionContextSubset, ContextEquals: in.Constraints.EncryptionContextEquals,
	}
	var b keystore.Batch
	b.PutGrant(rec)
	if s.fleet != nil {
		// The key's record, unchanged, fences the key's grant quota: two
		// hosts adding grants to one key at once conflict.
		e.mu.RLock()
		b.PutKey(e.rec.Clone())
		e.mu.RUnlock()
	}
	if err := s.write(api.OpCreateGrant, &b); err != nil {
		return nil, err
	}
	g, _ := s.loadGrant(rec)
	g.grantee = grantee
	s.setGrants(e, func(m map[string]*grant) { m[rec.GrantID] = g })
	s.log.Info("grant created", "key", e.id.String(), "grant", rec.GrantID, "grantee", rec.GranteePrincipal, "operations", strings.Join(ops, ","))
	return &api.CreateGrantOutput{GrantId: rec.GrantID, GrantToken: grantToken(e.id, rec.GrantID)}, nil
}

// checkGrantInput checks a CreateGrant request before any key is looked
// at, and returns its grantee.
func (s *Service) checkGrantInput(in *api.CreateGrantInput) (policy.HostPrincipal, error) {
	grantee, err := s.parseGrantPrincipal("GranteePrincipal", in.GranteePrincipal)
	if err != nil {
		return grantee, err
	}
	if in.RetiringPrincipal != "" {
		if _, err := s.parseGrantPrincipal("RetiringPrincipal", in.RetiringPrincipal); err != nil {
			return grantee, err
		}
	}
	if len(in.Operations) == 0 {
		return grantee, errorf(api.CodeValidation, "Operations is required")
	}
	for _, op := range in.Operations {
		if grantOps[op] == "" {
			return grantee, errorf(api.CodeValidation, "grant operation %q is not one of AWS KMS's", op)
		}
	}
	if in.Name != "" && !grantNameRE.MatchString(in.Name) {
		return grantee, errorf(api.CodeValidation, "Name must be 1 to 256 characters of a-z A-Z 0-9 : / _ -")
	}
	if err := checkConstraint("EncryptionContextSubset", in.Constraints.EncryptionContextSubset); err != nil {
		return grantee, err
	}
	return grantee, checkConstraint("EncryptionContextEquals", in.Constraints.EncryptionContextEquals)
}

// authorizeGrant authorizes the caller to make the grant on e, in e's
// state; a grant made under a grant (by its token) may only narrow it.
// It returns e's authorization state. The caller holds writeMu.
func (s *Service) authorizeGrant(ctx context.Context, e *entry, in *api.CreateGrantInput) (*authState, error) {
	e.mu.RLock()
	via, err := s.authorize(ctx, e, "kms:CreateGrant", nil, in.GrantTokens)
	if err == nil {
		err = checkState(api.OpCreateGrant, e)
	}
	if err == nil {
		err = checkGrantOps(e, in)
	}
	a := e.auth.Load()
	e.mu.RUnlock()
	if err != nil {
		return nil, err
	}
	if via != "" && !narrower(in, a.grants[via]) {
		return nil, errorf(api.CodeAccessDenied, "a grant made under grant %s may only narrow its operations and constraints", via)
	}
	if in.DryRun {
		return nil, errDryRun(api.OpCreateGrant)
	}
	return a, nil
}

// keyTypeOps are the grant operations of each type of key, besides
// DescribeKey, CreateGrant and RetireGrant, which every key has.
var keyTypeOps = map[string][]string{
	api.KeySpecSymmetric: {"Encrypt", "Decrypt", "ReEncryptFrom", "ReEncryptTo", "GenerateDataKey", "GenerateDataKeyWithoutPlaintext",
		"GenerateDataKeyPair", "GenerateDataKeyPairWithoutPlaintext"},
	api.KeyUsageEncryptDecrypt: {"Encrypt", "Decrypt", "ReEncryptFrom", "ReEncryptTo", "GetPublicKey"},
	api.KeyUsageSignVerify:     {"Sign", "Verify", "GetPublicKey"},
	api.KeyUsageMAC:            {"GenerateMac", "VerifyMac"},
	api.KeyUsageKeyAgreement:   {"DeriveSharedSecret", "GetPublicKey"},
}

// checkGrantOps refuses, as AWS does, a grant of operations the key's
// type does not have, and encryption-context constraints on a key that
// binds no context. The caller holds e.mu.
func checkGrantOps(e *entry, in *api.CreateGrantInput) error {
	kind := e.rec.KeyUsage
	if isSymmetric(e.rec) {
		kind = api.KeySpecSymmetric
	}
	for _, op := range in.Operations {
		if op != "DescribeKey" && op != "CreateGrant" && op != "RetireGrant" && !slices.Contains(keyTypeOps[kind], op) {
			return errorf(api.CodeValidation, "grant operation %s is not valid for %s, a %s key of usage %s", op, e.arn, e.rec.KeySpec, e.rec.KeyUsage)
		}
	}
	if kind != api.KeySpecSymmetric && (in.Constraints.EncryptionContextEquals != nil || in.Constraints.EncryptionContextSubset != nil) {
		return errorf(api.CodeValidation, "encryption context constraints are valid only for symmetric encryption keys")
	}
	return nil
}

// sameGrant finds the grant a named request made before (AWS makes a
// named grant once: the same request again returns the same grant).
func sameGrant(a *authState, in *api.CreateGrantInput, ops []string) *keystore.GrantRecord {
	if in.Name == "" {
		return nil
	}
	for _, g := range a.grants {
		r := g.rec
		if r.Name == in.Name && r.GranteePrincipal == in.GranteePrincipal && r.RetiringPrincipal == in.RetiringPrincipal &&
			slices.Equal(r.Operations, ops) && maps.Equal(r.ContextSubset, in.Constraints.EncryptionContextSubset) &&
			maps.Equal(r.ContextEquals, in.Constraints.EncryptionContextEquals) {
			return r
		}
	}
	return nil
}

// setGrants changes e's grants and installs a new authState (with an
// empty decision cache); the next request sees the change. The map is
// changed in place: every reader of a key's grants holds e.mu or writeMu,
// and this holds both. The caller holds writeMu.
func (s *Service) setGrants(e *entry, change func(map[string]*grant)) {
	e.mu.Lock()
	old := e.auth.Load()
	grants := old.grants
	if grants == nil {
		grants = map[string]*grant{}
	}
	change(grants)
	e.auth.Store(newAuthState(old.policy, grants))
	e.mu.Unlock()
}

// grantToken makes a token for a grant: a nonsecret name for it (AWS's
// tokens are not bearer credentials either), fresh on every call.
func grantToken(id keystore.KeyID, grantID string) string {
	raw, _ := hex.DecodeString(grantID)
	b := make([]byte, 0, 16+32+16)
	b = append(b, id[:]...)
	b = append(b, raw...)
	var nonce [16]byte
	rand.Read(nonce[:])
	b = append(b, nonce[:]...)
	return grantTokenPrefix + base64.RawURLEncoding.EncodeToString(b)
}

// parseGrantToken returns the key and grant a token names.
func parseGrantToken(t string) (keystore.KeyID, string, bool) {
	var id keystore.KeyID
	rest, ok := strings.CutPrefix(t, grantTokenPrefix)
	if !ok {
		return id, "", false
	}
	b, err := base64.RawURLEncoding.DecodeString(rest)
	if err != nil || len(b) != 64 {
		return id, "", false
	}
	copy(id[:], b[:16])
	return id, hex.EncodeToString(b[16:48]), true
}

// GrantIDOfToken returns the id of the grant a grant token names, for a
// front end's record of RetireGrant by token.
func GrantIDOfToken(t string) (string, bool) {
	_, gid, ok := parseGrantToken(t)
	return gid, ok
}

// checkGrantTokens refuses tokens that are malformed or name no grant.
// Grants take effect at once here, so a valid token adds nothing to what
// its grant allows.
func (s *Service) checkGrantTokens(tokens []string) error {
	if len(tokens) > maxGrantTokens {
		return errorf(api.CodeValidation, "at most %d grant tokens", maxGrantTokens)
	}
	for _, t := range tokens {
		if len(t) == 0 || len(t) > maxGrantTokenLen {
			return errorf(api.CodeInvalidGrantToken, "a grant token must be 1 to %d characters", maxGrantTokenLen)
		}
		id, gid, ok := parseGrantToken(t)
		if !ok {
			return errorf(api.CodeInvalidGrantToken, "the grant token is not valid")
		}
		e := s.lookup(id)
		if e == nil || e.auth.Load().grants[gid] == nil {
			return errorf(api.CodeInvalidGrantToken, "the grant token names no grant (it may have been retired or revoked)")
		}
	}
	return nil
}

func (s *Service) grantEntry(e *entry, g *grant) api.GrantListEntry {
	r := g.rec
	return api.GrantListEntry{
		KeyId: e.arn, GrantId: r.GrantID, Name: r.Name, CreationDate: r.CreationDate,
		GranteePrincipal: r.GranteePrincipal, RetiringPrincipal: r.RetiringPrincipal, IssuingAccount: s.cfg.AccountID,
		Operations: slices.Clone(r.Operations),
		Constraints: api.GrantConstraints{EncryptionContextSubset: maps.Clone(r.ContextSubset),
			EncryptionContextEquals: maps.Clone(r.ContextEquals)},
	}
}

// pageGrants sorts grants by id and returns the page after marker.
func pageGrants(list []api.GrantListEntry, marker string, limit int) *api.ListGrantsOutput {
	slices.SortFunc(list, func(a, b api.GrantListEntry) int { return strings.Compare(a.GrantId+a.KeyId, b.GrantId+b.KeyId) })
	if marker != "" {
		i := slices.IndexFunc(list, func(g api.GrantListEntry) bool { return g.GrantId > marker })
		if i < 0 {
			i = len(list)
		}
		list = list[i:]
	}
	out := &api.ListGrantsOutput{Grants: list}
	if len(list) > limit {
		out.Grants, out.Truncated, out.NextMarker = list[:limit], true, list[limit-1].GrantId
	}
	return out
}

// ListGrants lists a key's grants (never their tokens), optionally one
// grant or one grantee's.
func (s *Service) ListGrants(ctx context.Context, in *api.ListGrantsInput) (*api.ListGrantsOutput, error) {
	limit, err := pageLimit(in.Limit, 100, 50)
	if err != nil {
		return nil, err
	}
	var filter *policy.HostPrincipal
	if in.GranteePrincipal != "" {
		h, err := s.parseGrantPrincipal("GranteePrincipal", in.GranteePrincipal)
		if err != nil {
			return nil, err
		}
		filter = &h
	}
	var list []api.GrantListEntry
	err = s.view(ctx, api.OpListGrants, in.KeyId, false, nil, func(e *entry) error {
		for id, g := range e.auth.Load().grants {
			if (in.GrantId == "" || id == in.GrantId) && (filter == nil || g.grantee == *filter) {
				list = append(list, s.grantEntry(e, g))
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if in.GrantId != "" && len(list) == 0 {
		return nil, errorf(api.CodeInvalidGrantID, "no grant %q on this key", in.GrantId)
	}
	return pageGrants(list, in.Marker, limit), nil
}

// ListRetirableGrants lists, across keys, the grants whose retiring
// principal is RetiringPrincipal. Callers may list their own; root any.
func (s *Service) ListRetirableGrants(ctx context.Context, in *api.ListRetirableGrantsInput) (*api.ListGrantsOutput, error) {
	limit, err := pageLimit(in.Limit, 100, 50)
	if err != nil {
		return nil, err
	}
	p, err := principalOf(ctx)
	if err != nil {
		return nil, err
	}
	rp, err := s.parseGrantPrincipal("RetiringPrincipal", in.RetiringPrincipal)
	if err != nil {
		return nil, err
	}
	if p.UID != 0 && !rp.Matches(p) {
		return nil, errorf(api.CodeAccessDenied, "uid:%d may list only the grants it may retire", p.UID)
	}
	s.mu.RLock()
	all := make([]*entry, 0, len(s.keys))
	for _, e := range s.keys {
		all = append(all, e)
	}
	s.mu.RUnlock()
	var list []api.GrantListEntry
	for _, e := range all {
		e.mu.RLock()
		for _, g := range e.auth.Load().grants {
			if g.retiring != nil && *g.retiring == rp && !e.deleted {
				list = append(list, s.grantEntry(e, g))
			}
		}
		e.mu.RUnlock()
	}
	return pageGrants(list, in.Marker, limit), nil
}

// RetireGrant deletes a grant, named by its token or by KeyId and GrantId.
// Its retiring principal may retire it, and so may its grantee if the
// grant includes RetireGrant, and root.
func (s *Service) RetireGrant(ctx context.Context, in *api.RetireGrantInput) error {
	keyID, grantID := in.KeyId, in.GrantId
	if in.GrantToken != "" {
		id, gid, ok := parseGrantToken(in.GrantToken)
		if !ok {
			return errorf(api.CodeInvalidGrantToken, "the grant token is not valid")
		}
		keyID, grantID = id.String(), gid
	} else if keyID == "" || grantID == "" {
		return errorf(api.CodeValidation, "give GrantToken, or KeyId and GrantId")
	}
	return s.removeGrant(ctx, api.OpRetireGrant, keyID, grantID, in.DryRun, func(p *policy.Principal, e *entry, g *grant) error {
		switch {
		case p.UID == 0 && e.manager == ManagerCustomer:
		case g.retiring != nil && g.retiring.Matches(p):
		case g.grantee.Matches(p) && g.actions["kms:RetireGrant"]:
		default:
			if !visibleTo(e, p) {
				return notFound(e.arn)
			}
			return errorf(api.CodeAccessDenied, "uid:%d may not retire grant %s", p.UID, g.rec.GrantID)
		}
		return nil
	})
}

// RevokeGrant deletes a grant; it needs kms:RevokeGrant on the key.
func (s *Service) RevokeGrant(ctx context.Context, in *api.RevokeGrantInput) error {
	if in.KeyId == "" || in.GrantId == "" {
		return errorf(api.CodeValidation, "KeyId and GrantId are required")
	}
	return s.removeGrant(ctx, api.OpRevokeGrant, in.KeyId, in.GrantId, in.DryRun, func(_ *policy.Principal, e *entry, _ *grant) error {
		_, err := s.authorize(ctx, e, "kms:RevokeGrant", nil, nil)
		return err
	})
}

// removeGrant deletes a grant that allowed lets the caller remove; with
// dryRun, it stops there (DryRunOperationException).
func (s *Service) removeGrant(ctx context.Context, op, keyID, grantID string, dryRun bool, allowed func(*policy.Principal, *entry, *grant) error) error {
	if err := s.checkOpen(); err != nil {
		return err
	}
	p, err := principalOf(ctx)
	if err != nil {
		return err
	}
	e, err := s.resolve(ctx, keyID, false)
	if err != nil {
		return err
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	e.mu.RLock()
	g := e.auth.Load().grants[grantID]
	switch {
	case e.deleted || e.manager == ManagerDaemon:
		err = notFound(e.arn)
	case g == nil && visibleTo(e, p):
		err = errorf(api.CodeInvalidGrantID, "no grant %q on %s", grantID, e.arn)
	case g == nil:
		err = notFound(e.arn)
	default:
		err = allowed(p, e, g)
	}
	e.mu.RUnlock()
	if err == nil && dryRun {
		err = errDryRun(op)
	}
	if err != nil {
		return err
	}
	var b keystore.Batch
	b.DeleteGrant(e.id, grantID)
	if err := s.write(op, &b); err != nil {
		return err
	}
	s.setGrants(e, func(m map[string]*grant) { delete(m, grantID) })
	s.log.Info("grant removed", "key", e.id.String(), "grant", grantID, "op", op, "by", p.String())
	return nil
}
