package kms

import (
	"context"
	"testing"
	"unsafe"

	"kmsd/wire/api"
)

// policyOf is a key's compiled policy and the data pointer of its text.
func policyOf(t *testing.T, s *Service, id string) (any, *byte) {
	t.Helper()
	e, err := s.resolve(context.Background(), id, false)
	if err != nil {
		t.Fatal(err)
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.auth.Load().policy, unsafe.StringData(e.rec.Policy)
}

func TestPoliciesShared(t *testing.T) {
	s, _ := testService(t)
	a, b := mustKey(t, s), mustKey(t, s)
	pa, ta := policyOf(t, s, a)
	pb, tb := policyOf(t, s, b)
	if pa != pb || ta != tb {
		t.Error("two keys with the default policy hold two compiled policies or two texts")
	}
	// A policy replaced by the same text as another key's shares it too;
	// a different text does not.
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Kmsd":"uid:0"},"Action":"kms:*","Resource":"*"}]}`
	for _, id := range []string{a, b} {
		if err := s.PutKeyPolicy(ctx, &api.PutKeyPolicyInput{KeyId: id, PolicyName: "default", Policy: doc}); err != nil {
			t.Fatal(err)
		}
	}
	pa, ta = policyOf(t, s, a)
	pb, tb = policyOf(t, s, b)
	if pa != pb || ta != tb {
		t.Error("two keys given the same policy text do not share it")
	}
	if pc, _ := policyOf(t, s, mustKey(t, s)); pc == pa {
		t.Error("a key with another policy text shares a compiled policy")
	}
}

// Names are resolved when a policy is compiled, so a policy that names a
// user or a group is compiled for each key, never taken from the cache.
func TestPoliciesWithNamesNotShared(t *testing.T) {
	s := authService(t)
	a, b := mustKey(t, s), mustKey(t, s) // the default policy names group:kms-admins
	pa, _ := policyOf(t, s, a)
	pb, _ := policyOf(t, s, b)
	if pa == pb {
		t.Error("a policy naming a group was shared between keys")
	}
}

// Reopening the store shares the policies of keys loaded from it.
func TestPoliciesSharedAfterLoad(t *testing.T) {
	dir := t.TempDir()
	s, err := openDir(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	a, b := mustKey(t, s), mustKey(t, s)
	s.Close()
	if s, err = openDir(t, dir); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	pa, ta := policyOf(t, s, a)
	pb, tb := policyOf(t, s, b)
	if pa != pb || ta != tb {
		t.Error("keys loaded with the same policy do not share it")
	}
}
