package kms

import (
	"context"

	"kmsd/keystore"
	"kmsd/wire/api"
)

// DefaultPolicyName is the only policy name a key has.
const DefaultPolicyName = "default"

func checkPolicyName(n string) error {
	if n != "" && n != DefaultPolicyName {
		return errorf(api.CodeNotFound, "a key has one policy, named %q", DefaultPolicyName)
	}
	return nil
}

// PutKeyPolicy replaces a key's policy. The document must compile
// (MalformedPolicyDocumentException names the fault), be at most 32 KiB
// (LimitExceededException), and still let the caller change it later
// unless BypassPolicyLockoutSafetyCheck is set. It applies to the next
// request.
func (s *Service) PutKeyPolicy(ctx context.Context, in *api.PutKeyPolicyInput) error {
	if err := checkPolicyName(in.PolicyName); err != nil {
		return err
	}
	p, err := principalOf(ctx)
	if err != nil {
		return err
	}
	doc, pol, err := s.compile(in.Policy)
	if err != nil {
		return malformedPolicy(err)
	}
	_, err = s.update(ctx, api.OpPutKeyPolicy, in.KeyId, func(e *entry, r *keystore.KeyRecord) (bool, error) {
		if err := lockoutCheck(pol, p, e.arn, in.BypassPolicyLockoutSafetyCheck); err != nil {
			return false, err
		}
		r.Policy = doc
		return true, nil
	})
	if err != nil {
		return err
	}
	e, _ := s.resolve(ctx, in.KeyId, false)
	e.mu.Lock()
	e.auth.Store(newAuthState(pol, e.auth.Load().grants))
	e.mu.Unlock()
	s.log.Info("key policy replaced", "key", e.id.String(), "by", p.String())
	return nil
}

// GetKeyPolicy returns a key's policy document.
func (s *Service) GetKeyPolicy(ctx context.Context, in *api.GetKeyPolicyInput) (*api.GetKeyPolicyOutput, error) {
	if err := checkPolicyName(in.PolicyName); err != nil {
		return nil, err
	}
	var out api.GetKeyPolicyOutput
	err := s.view(ctx, api.OpGetKeyPolicy, in.KeyId, false, nil, func(e *entry) error {
		out.Policy, out.PolicyName = e.auth.Load().policy.Text, DefaultPolicyName
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// ListKeyPolicies lists a key's policy names: always "default".
func (s *Service) ListKeyPolicies(ctx context.Context, in *api.ListKeyPoliciesInput) (*api.ListKeyPoliciesOutput, error) {
	if _, err := pageLimit(in.Limit, 1000, 100); err != nil {
		return nil, err
	}
	err := s.view(ctx, api.OpListKeyPolicies, in.KeyId, false, nil, func(*entry) error { return nil })
	if err != nil {
		return nil, err
	}
	return &api.ListKeyPoliciesOutput{PolicyNames: []string{DefaultPolicyName}}, nil
}
