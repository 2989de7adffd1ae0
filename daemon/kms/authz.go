package kms

import (
	"cmp"
	"context"
	"maps"
	"strings"
	"sync"
	"sync/atomic"

	"kmsd/daemon/policy"
	"kmsd/keystore"
	"kmsd/wire/api"
)

// Key managers: who manages a key (KeyMetadata.KeyManager).
const (
	ManagerCustomer = "CUSTOMER" // made by CreateKey; managed per its policy
	ManagerService  = "AWS"      // kept by kmsd for a systemd unit (AWS's name for service-managed keys)
	ManagerDaemon   = "KMSD"     // kmsd's own; invisible and unusable through the API
)

// authState is what authorization knows about one key: its compiled
// policy, its grants, and decisions made so far. A change to the policy or
// the grants installs a new authState, so cached decisions never outlive
// what they were made from.
type authState struct {
	policy  *policy.Policy
	grants  map[string]*grant // by grant id
	cache   sync.Map          // decisionKey -> *decision
	entries atomic.Int32
}

// maxCachedDecisions bounds each key's cache; past it decisions are made
// afresh each time (they are still correct, only slower).
const maxCachedDecisions = 4096

type decisionKey struct {
	principal string
	action    string
}

// decision is what the policy and grants say about one principal doing one
// action on one key, with only the request's encryption context left open.
type decision struct {
	app       policy.Applicable
	grants    []*grant // grants to this principal that include the action
	visible   bool     // the principal may know the key exists
	rootAdmin bool     // root managing a customer key: always allowed
}

// grant is a loaded grant.
type grant struct {
	rec      *keystore.GrantRecord
	grantee  policy.HostPrincipal
	retiring *policy.HostPrincipal
	actions  map[string]bool // kms:Encrypt, ...
}

// holds reports whether a request's encryption context meets the grant's
// constraints. Constraints bind only the crypto operations.
func (g *grant) holds(action string, ec map[string]string) bool {
	if !policy.CryptoActions[action] {
		return true
	}
	if g.rec.ContextEquals != nil && !maps.Equal(g.rec.ContextEquals, ec) {
		return false
	}
	for k, v := range g.rec.ContextSubset {
		if got, ok := ec[k]; !ok || got != v {
			return false
		}
	}
	return true
}

// newAuthState is a key's policy and grants; grants may be nil (most keys
// have none: setGrants makes the map when the first is added).
func newAuthState(pol *policy.Policy, grants map[string]*grant) *authState {
	return &authState{policy: pol, grants: grants}
}

// decide builds (or finds) the decision for p doing action on e.
func (a *authState) decide(e *entry, p *policy.Principal, action string) *decision {
	k := decisionKey{p.DecisionKey(), action}
	if d, ok := a.cache.Load(k); ok {
		return d.(*decision)
	}
	d := &decision{app: a.policy.Match(p, action, e.arn)}
	d.visible = a.policy.Visible(p, e.arn)
	for _, g := range a.grants {
		if g.grantee.Matches(p) {
			d.visible = true
			if g.actions[action] {
				d.grants = append(d.grants, g)
			}
		}
	}
	if p.UID == 0 && e.manager == ManagerCustomer {
		d.visible = true
		d.rootAdmin = !policy.CryptoActions[action]
	}
	if a.entries.Add(1) <= maxCachedDecisions {
		a.cache.Store(k, d)
	}
	return d
}

// principalOf returns the caller, or an AccessDeniedException: a request
// without a principal is refused, never treated as anyone.
func principalOf(ctx context.Context) (*policy.Principal, error) {
	if p := policy.From(ctx); p != nil {
		return p, nil
	}
	return nil, errorf(api.CodeAccessDenied, "the request carries no caller identity")
}

// notFound is the answer for a key that does not exist and for one the
// caller may not know of: the two are indistinguishable.
func notFound(arn string) error { return errorf(api.CodeNotFound, "key '%s' does not exist", arn) }

// authorize decides whether the caller may do action on e, for a request
// with encryption context ec (nil for none) and grant tokens. It returns the id of the
// grant that allowed it, if one did. The caller holds e.mu.
//
// A key the caller may not see at all (no statement or grant names it) is
// NotFoundException, exactly as for a key that does not exist; a key it may
// see is AccessDeniedException.
func (s *Service) authorize(ctx context.Context, e *entry, action string, ec *keystore.Context, tokens []string) (string, error) {
	return s.authorizeAlg(ctx, e, action, ec, tokens, "", "")
}

// authorizeAlg is authorize for a request that names its algorithm (a
// signing, MAC, encryption or key agreement algorithm): a policy's
// conditions on kms:SigningAlgorithm and the rest see it.
func (s *Service) authorizeAlg(ctx context.Context, e *entry, action string, ec *keystore.Context, tokens []string, alg, mtype string) (string, error) {
	p, err := principalOf(ctx)
	if err != nil {
		return "", err
	}
	if e.deleted || e.manager == ManagerDaemon {
		return "", notFound(e.arn)
	}
	if err := s.checkGrantTokens(tokens); err != nil {
		return "", err
	}
	a := e.auth.Load()
	d := a.decide(e, p, action)
	if d.visible {
		noteKey(ctx, e, action, "")
	}
	var attrs map[string]string
	if d.app.Conditional() {
		attrs = requestAttrs(e, action, alg, mtype)
	}
	allowed, denied := d.app.DecideWith(ec.Map(), ec.Keys(), attrs)
	switch {
	case d.rootAdmin:
		return "", nil
	case denied:
		return "", denyError(p, action, e, "an explicit deny in the key policy")
	case allowed:
		return "", nil
	}
	for _, g := range d.grants {
		if g.holds(action, ec.Map()) {
			noteKey(ctx, e, action, g.rec.GrantID)
			return g.rec.GrantID, nil
		}
	}
	if !d.visible {
		return "", notFound(e.arn)
	}
	return "", denyError(p, action, e, "no key policy statement or grant allows it")
}

func denyError(p *policy.Principal, action string, e *entry, why string) error {
	return errorf(api.CodeAccessDenied, "%s is not authorized to perform %s on %s: %s", p, action, e.arn, why)
}

// visibleTo reports whether p may know that e exists. The caller holds e.mu.
func visibleTo(e *entry, p *policy.Principal) bool {
	if e.deleted || e.manager == ManagerDaemon {
		return false
	}
	return e.auth.Load().decide(e, p, "kms:DescribeKey").visible
}

// action names the policy action of an operation.
func action(op string) string { return "kms:" + op }

// compilePolicy compiles a stored policy; a key written before policies
// existed gets the default policy of a key made by root.
func (s *Service) compilePolicy(r *keystore.KeyRecord) (string, *policy.Policy, error) {
	doc := r.Policy
	if doc == "" {
		doc = policy.Default(0, s.cfg.AdminGroup)
	}
	return s.compile(doc)
}

// malformedPolicy maps a compile error to the exception AWS returns.
func malformedPolicy(err error) error {
	if strings.Contains(err.Error(), policy.ErrTooLarge.Error()) {
		return errorf(api.CodeLimitExceeded, "the key policy is over %d bytes", policy.MaxSize)
	}
	return errorf(api.CodeMalformedPolicy, "the key policy is not valid: %v", err)
}

// lockoutCheck refuses a policy that would not let its author (p) change
// it again, unless bypass is set or p is root (who may always manage
// customer keys).
func lockoutCheck(pol *policy.Policy, p *policy.Principal, arn string, bypass bool) error {
	if bypass || p.UID == 0 || pol.AllowsOutright(p, "kms:PutKeyPolicy", arn) {
		return nil
	}
	return errorf(api.CodeMalformedPolicy, "the new key policy will not allow you (uid:%d) to update it later; "+
		"to apply it anyway, set BypassPolicyLockoutSafetyCheck", p.UID)
}

// requestAttrs are a request's condition keys besides its encryption
// context: the key's spec and usage, the algorithm the request names
// under the key AWS gives it for the action, and Sign's and Verify's
// message type.
func requestAttrs(e *entry, action, alg, mtype string) map[string]string {
	spec, usage := e.rec.KeySpec, e.rec.KeyUsage
	if isSymmetric(e.rec) {
		spec, usage = api.KeySpecSymmetric, api.KeyUsageEncryptDecrypt
	}
	attrs := map[string]string{policy.CondKeySpec: spec, policy.CondKeyUsage: usage}
	switch action {
	case "kms:Sign", "kms:Verify":
		attrs[policy.CondSigningAlgorithm] = alg
		attrs[policy.CondMessageType] = cmp.Or(mtype, "RAW")
	case "kms:GenerateMac", "kms:VerifyMac":
		attrs[policy.CondMacAlgorithm] = alg
	case "kms:DeriveSharedSecret":
		attrs[policy.CondKeyAgreementAlgorithm] = alg
	case "kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo":
		attrs[policy.CondEncryptionAlgorithm] = cmpOrDefault(alg)
	}
	return attrs
}
