package kms

import (
	"strings"
	"sync"

	"kmsd/daemon/policy"
)

// maxSharedPolicies bounds the policy cache; when it is full it starts
// afresh (what it held stays with the keys that use it).
const maxSharedPolicies = 256

// policyCache shares one compiled policy, and one copy of its text, among
// the keys whose policy documents are the same text: with the default
// policy, 10,000 keys made by one user hold one policy, not 10,000. Only
// documents that name no user or group by name are shared: names are
// resolved when a policy is compiled, so those are compiled afresh each
// time, as they always were. A compiled policy is never changed.
type policyCache struct {
	mu sync.Mutex
	m  map[string]sharedPolicy
}

type sharedPolicy struct {
	text string // the map's key, kept so that every key holds this copy
	pol  *policy.Policy
}

// compile returns doc's compiled policy and the text to keep for it: doc
// itself, or an equal string already held.
func (s *Service) compile(doc string) (string, *policy.Policy, error) {
	shareable := !strings.Contains(doc, "user:") && !strings.Contains(doc, "group:")
	c := &s.policies
	if shareable {
		c.mu.Lock()
		sp, ok := c.m[doc]
		c.mu.Unlock()
		if ok {
			return sp.text, sp.pol, nil
		}
	}
	// A Resource written with kmsd's older ARNs names the same keys.
	p, err := policy.Compile(strings.ReplaceAll(doc, LegacyARNPrefix, s.arnPrefix), s.resolver)
	if err == nil {
		p.Text = doc // as given
	}
	if err != nil || !shareable {
		return doc, p, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if sp, ok := c.m[doc]; ok { // compiled meanwhile by another request
		return sp.text, sp.pol, nil
	}
	if c.m == nil || len(c.m) >= maxSharedPolicies {
		c.m = map[string]sharedPolicy{}
	}
	c.m[doc] = sharedPolicy{doc, p}
	return doc, p, nil
}
