package kms

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"kmsd/daemon/policy"
	"kmsd/wire/api"
)

// as returns a context whose caller is p.
func as(p *policy.Principal) context.Context { return policy.WithPrincipal(context.Background(), p) }

var (
	alice  = as(&policy.Principal{UID: 1000, GID: 1000, Source: "test"})
	bob    = as(&policy.Principal{UID: 1001, GID: 1001, Source: "test"})
	carol  = as(&policy.Principal{UID: 1002, GID: 1002, Groups: []uint32{500}, Source: "test"}) // in the admin group
	nginx  = as(&policy.Principal{UID: 33, GID: 33, Unit: "nginx.service", Source: "test"})
	backup = as(&policy.Principal{UID: 34, GID: 34, Unit: "backup.service", Source: "test"})
)

// testResolver knows the users and groups the tests name.
type testResolver struct{}

func (testResolver) LookupUser(n string) (uint32, error) {
	if n == "bob" {
		return 1001, nil
	}
	return 0, errors.New("no such user")
}

func (testResolver) LookupGroup(n string) (uint32, error) {
	if n == "kms-admins" {
		return 500, nil
	}
	return 0, errors.New("no such group")
}

func authService(t testing.TB, mod ...func(*Config)) *Service {
	s, _ := testService(t, append([]func(*Config){func(c *Config) {
		c.AdminGroup, c.Resolver = "kms-admins", testResolver{}
	}}, mod...)...)
	return s
}

func keyOf(t testing.TB, s *Service, c context.Context) string {
	t.Helper()
	out, err := s.CreateKey(c, &api.CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	return out.KeyMetadata.KeyId
}

// TestDefaultPolicy: the creator, root and the admin group have the key;
// nobody else can even see it.
func TestDefaultPolicy(t *testing.T) {
	s := authService(t)
	id := keyOf(t, s, alice)
	for name, c := range map[string]context.Context{"creator": alice, "root": ctx, "admin group": carol} {
		if _, err := s.Encrypt(c, &api.EncryptInput{KeyId: id, Plaintext: []byte("x")}); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if err := s.DisableKey(c, &api.KeyIDInput{KeyId: id}); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		s.EnableKey(ctx, &api.KeyIDInput{KeyId: id})
	}
	pol, _ := s.GetKeyPolicy(alice, &api.GetKeyPolicyInput{KeyId: id})
	for _, want := range []string{`"uid:0"`, `"uid:1000"`, `"group:kms-admins"`} {
		if !strings.Contains(pol.Policy, want) {
			t.Errorf("default policy lacks %s:\n%s", want, pol.Policy)
		}
	}
	_, err := s.Encrypt(bob, &api.EncryptInput{KeyId: id, Plaintext: []byte("x")})
	wantCode(t, err, api.CodeNotFound)
	if l, _ := s.ListKeys(bob, &api.ListKeysInput{}); len(l.Keys) != 0 {
		t.Fatalf("bob lists %v", l.Keys)
	}
	if n := s.VisibleKeyCount(bob); n != 0 {
		t.Fatalf("bob sees %d keys", n)
	}
	if _, err := s.Encrypt(context.Background(), &api.EncryptInput{KeyId: id, Plaintext: []byte("x")}); api.CodeOf(err) != api.CodeAccessDenied {
		t.Fatalf("no principal: %v", err)
	}
}

// TestInvisibleIsNotFound: for a key bob may not see, every answer is the
// one he gets for a key that does not exist.
func TestInvisibleIsNotFound(t *testing.T) {
	s := authService(t)
	id := keyOf(t, s, alice)
	s.CreateAlias(alice, &api.AliasInput{AliasName: "alias/alices", TargetKeyId: id})
	blob := mustEncrypt(t, s, id, "secret", nil)
	ghost := "00000000-0000-4000-8000-000000000000"
	ghostBlob := append([]byte{}, blob...)
	gid := mustParse(t, ghost)
	copy(ghostBlob[2:18], gid[:])
	same := func(name string, got, missing error) {
		t.Helper()
		if got == nil || missing == nil {
			t.Fatalf("%s: %v / %v", name, got, missing)
		}
		r := strings.ReplaceAll(got.Error(), id, "ID")
		m := strings.ReplaceAll(missing.Error(), ghost, "ID")
		if r != m {
			t.Fatalf("%s tells bob the key exists:\n%s\n%s", name, r, m)
		}
	}
	for _, k := range [][2]string{{id, ghost}, {testARNPrefix + "key/" + id, testARNPrefix + "key/" + ghost}} {
		_, e1 := s.DescribeKey(bob, &api.DescribeKeyInput{KeyId: k[0]})
		_, e2 := s.DescribeKey(bob, &api.DescribeKeyInput{KeyId: k[1]})
		same("DescribeKey", e1, e2)
		e1 = s.DisableKey(bob, &api.KeyIDInput{KeyId: k[0]})
		e2 = s.DisableKey(bob, &api.KeyIDInput{KeyId: k[1]})
		same("DisableKey", e1, e2)
		_, e1 = s.GetKeyPolicy(bob, &api.GetKeyPolicyInput{KeyId: k[0]})
		_, e2 = s.GetKeyPolicy(bob, &api.GetKeyPolicyInput{KeyId: k[1]})
		same("GetKeyPolicy", e1, e2)
		_, e1 = s.ListGrants(bob, &api.ListGrantsInput{KeyId: k[0]})
		_, e2 = s.ListGrants(bob, &api.ListGrantsInput{KeyId: k[1]})
		same("ListGrants", e1, e2)
	}
	_, e1 := s.Decrypt(bob, &api.DecryptInput{CiphertextBlob: blob})
	_, e2 := s.Decrypt(bob, &api.DecryptInput{CiphertextBlob: ghostBlob})
	same("Decrypt", e1, e2)
	_, e1 = s.Encrypt(bob, &api.EncryptInput{KeyId: "alias/alices", Plaintext: []byte("x")})
	_, e2 = s.Encrypt(bob, &api.EncryptInput{KeyId: "alias/nobodys", Plaintext: []byte("x")})
	if api.CodeOf(e1) != api.CodeNotFound || api.CodeOf(e2) != api.CodeNotFound {
		t.Fatalf("alias: %v / %v", e1, e2)
	}
	if l, _ := s.ListAliases(bob, &api.ListAliasesInput{}); len(l.Aliases) != 0 {
		t.Fatalf("bob lists aliases %v", l.Aliases)
	}
	wantCode(t, s.DeleteAlias(bob, &api.DeleteAliasInput{AliasName: "alias/alices"}), api.CodeNotFound)
}

func TestPolicyDecisions(t *testing.T) {
	s := authService(t)
	id := keyOf(t, s, alice)
	doc := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[
	 {"Sid":"admin","Effect":"Allow","Principal":{"Kmsd":"uid:1000"},"Action":"kms:*","Resource":"*"},
	 {"Sid":"bob describes","Effect":"Allow","Principal":{"Kmsd":"user:bob"},"Action":"kms:Describe*","Resource":"*"},
	 {"Sid":"bob encrypts for tenant a","Effect":"Allow","Principal":{"Kmsd":"user:bob"},"Action":["kms:Encrypt","kms:Decrypt"],"Resource":"arn:kmsd:kms:local:000000000000:key/%s",
	  "Condition":{"StringEquals":{"kms:EncryptionContext:tenant":"a"}}},
	 {"Sid":"backups","Effect":"Allow","Principal":{"Kmsd":"unit:backup.service"},"Action":"kms:GenerateDataKey*","Resource":"*"},
	 {"Sid":"never decrypt secrets","Effect":"Deny","Principal":"*","Action":"kms:Decrypt","Resource":"*","Condition":{"StringEquals":{"kms:EncryptionContext:class":"secret"}}}]}`, id)
	wantCode(t, s.PutKeyPolicy(alice, &api.PutKeyPolicyInput{KeyId: id, Policy: doc}), "")
	enc := func(c context.Context, ec map[string]string) error {
		_, err := s.Encrypt(c, &api.EncryptInput{KeyId: id, Plaintext: []byte("x"), EncryptionContext: ec})
		return err
	}
	wantCode(t, enc(bob, map[string]string{"tenant": "a"}), "")
	wantCode(t, enc(bob, map[string]string{"tenant": "b"}), api.CodeAccessDenied)
	wantCode(t, enc(bob, nil), api.CodeAccessDenied)
	if _, err := s.DescribeKey(bob, &api.DescribeKeyInput{KeyId: id}); err != nil {
		t.Fatal(err)
	}
	wantCode(t, s.DisableKey(bob, &api.KeyIDInput{KeyId: id}), api.CodeAccessDenied)
	_, err := s.GenerateDataKey(backup, &api.GenerateDataKeyInput{KeyId: id, KeySpec: "AES_256"})
	wantCode(t, err, "")
	_, err = s.GenerateDataKey(nginx, &api.GenerateDataKeyInput{KeyId: id, KeySpec: "AES_256"})
	wantCode(t, err, api.CodeNotFound)

	// The explicit deny wins even over the admin statement.
	sec, err := s.Encrypt(alice, &api.EncryptInput{KeyId: id, Plaintext: []byte("s"), EncryptionContext: map[string]string{"class": "secret"}})
	if err != nil {
		t.Fatal(err)
	}
	secret := sec.CiphertextBlob
	_, err = s.Decrypt(alice, &api.DecryptInput{CiphertextBlob: secret, EncryptionContext: map[string]string{"class": "secret"}})
	wantCode(t, err, api.CodeAccessDenied)
	// ReEncrypt needs ReEncryptFrom and ReEncryptTo: bob has neither.
	be, err := s.Encrypt(bob, &api.EncryptInput{KeyId: id, Plaintext: []byte("a"), EncryptionContext: map[string]string{"tenant": "a"}})
	if err != nil {
		t.Fatal(err)
	}
	blob := be.CiphertextBlob
	_, err = s.ReEncrypt(bob, &api.ReEncryptInput{CiphertextBlob: blob, SourceEncryptionContext: map[string]string{"tenant": "a"}, DestinationKeyId: id})
	wantCode(t, err, api.CodeAccessDenied)

	// A change applies to the next request.
	wantCode(t, s.PutKeyPolicy(alice, &api.PutKeyPolicyInput{KeyId: id, Policy: policy.Default(1000, "")}), "")
	wantCode(t, enc(bob, map[string]string{"tenant": "a"}), api.CodeNotFound)
}

func TestPutKeyPolicyChecks(t *testing.T) {
	s := authService(t)
	id := keyOf(t, s, alice)
	err := s.PutKeyPolicy(alice, &api.PutKeyPolicyInput{KeyId: id, Policy: `{"Statement":[{"Effect":"Allow","Principal":{"Kmsd":"uid:1000"},"Action":"kms:Encrypted"}]}`})
	wantCode(t, err, api.CodeMalformedPolicy)
	if !strings.Contains(err.Error(), "Statement[0].Action[0]") {
		t.Fatalf("message does not point at the fault: %v", err)
	}
	big := `{"Statement":[{"Sid":"` + strings.Repeat("x", 33000) + `","Effect":"Allow","Principal":"*"}]}`
	wantCode(t, s.PutKeyPolicy(alice, &api.PutKeyPolicyInput{KeyId: id, Policy: big}), api.CodeLimitExceeded)
	wantCode(t, s.PutKeyPolicy(alice, &api.PutKeyPolicyInput{KeyId: id, PolicyName: "other", Policy: policy.Default(1000, "")}), api.CodeNotFound)

	// Lockout: a policy that would stop alice from changing it again.
	lock := `{"Statement":[{"Effect":"Allow","Principal":{"Kmsd":"uid:1000"},"Action":["kms:Encrypt","kms:Decrypt"],"Resource":"*"}]}`
	err = s.PutKeyPolicy(alice, &api.PutKeyPolicyInput{KeyId: id, Policy: lock})
	wantCode(t, err, api.CodeMalformedPolicy)
	if !strings.Contains(err.Error(), "BypassPolicyLockoutSafetyCheck") {
		t.Fatal(err)
	}
	_, err = s.CreateKey(alice, &api.CreateKeyInput{Policy: lock})
	wantCode(t, err, api.CodeMalformedPolicy)
	wantCode(t, s.PutKeyPolicy(alice, &api.PutKeyPolicyInput{KeyId: id, Policy: lock, BypassPolicyLockoutSafetyCheck: true}), "")
	wantCode(t, s.PutKeyPolicy(alice, &api.PutKeyPolicyInput{KeyId: id, Policy: policy.Default(1000, "")}), api.CodeAccessDenied)
	// Root may always manage a customer key: the way back.
	wantCode(t, s.PutKeyPolicy(ctx, &api.PutKeyPolicyInput{KeyId: id, Policy: policy.Default(1000, "")}), "")
	wantCode(t, s.DisableKey(alice, &api.KeyIDInput{KeyId: id}), "")
}

func TestGrants(t *testing.T) {
	s := authService(t)
	id := keyOf(t, s, alice)
	tenantA := map[string]string{"tenant": "a"}
	enc := func(c context.Context, ec map[string]string, tokens ...string) error {
		_, err := s.Encrypt(c, &api.EncryptInput{KeyId: id, Plaintext: []byte("x"), EncryptionContext: ec, GrantTokens: tokens})
		return err
	}
	wantCode(t, enc(bob, tenantA), api.CodeNotFound)
	g, err := s.CreateGrant(alice, &api.CreateGrantInput{KeyId: id, GranteePrincipal: "user:bob", RetiringPrincipal: "uid:1002",
		Operations: []string{"Encrypt", "Decrypt", "DescribeKey"}, Constraints: api.GrantConstraints{EncryptionContextSubset: tenantA}, Name: "bob-a"})
	if err != nil {
		t.Fatal(err)
	}
	if len(g.GrantId) != 64 || !strings.HasPrefix(g.GrantToken, grantTokenPrefix) {
		t.Fatalf("%+v", g)
	}
	wantCode(t, enc(bob, tenantA), "")
	wantCode(t, enc(bob, map[string]string{"tenant": "a", "extra": "ok"}), "") // Subset: more pairs are fine
	wantCode(t, enc(bob, map[string]string{"tenant": "b"}), api.CodeAccessDenied)
	wantCode(t, enc(bob, tenantA, g.GrantToken), "")
	wantCode(t, enc(bob, tenantA, "kmsdgt1_garbage"), api.CodeInvalidGrantToken)
	if _, err := s.DescribeKey(bob, &api.DescribeKeyInput{KeyId: id}); err != nil {
		t.Fatalf("grant includes DescribeKey: %v", err)
	}
	wantCode(t, s.DisableKey(bob, &api.KeyIDInput{KeyId: id}), api.CodeAccessDenied)

	// Same name and parameters: the same grant, a new token.
	again, err := s.CreateGrant(alice, &api.CreateGrantInput{KeyId: id, GranteePrincipal: "user:bob", RetiringPrincipal: "uid:1002",
		Operations: []string{"Decrypt", "Encrypt", "DescribeKey"}, Constraints: api.GrantConstraints{EncryptionContextSubset: tenantA}, Name: "bob-a"})
	if err != nil || again.GrantId != g.GrantId || again.GrantToken == g.GrantToken {
		t.Fatalf("retry: %+v %v", again, err)
	}
	l, _ := s.ListGrants(alice, &api.ListGrantsInput{KeyId: id})
	if len(l.Grants) != 1 || l.Grants[0].GranteePrincipal != "user:bob" || l.Grants[0].Constraints.EncryptionContextSubset["tenant"] != "a" {
		t.Fatalf("list %+v", l)
	}
	if r, _ := s.ListRetirableGrants(carol, &api.ListRetirableGrantsInput{RetiringPrincipal: "uid:1002"}); len(r.Grants) != 1 {
		t.Fatalf("retirable %+v", r)
	}
	_, err = s.ListRetirableGrants(bob, &api.ListRetirableGrantsInput{RetiringPrincipal: "uid:1002"})
	wantCode(t, err, api.CodeAccessDenied)

	// Only the retiring principal (or root) retires it; then bob is back to nothing.
	wantCode(t, s.RetireGrant(bob, &api.RetireGrantInput{GrantToken: g.GrantToken}), api.CodeAccessDenied)
	wantCode(t, s.RetireGrant(carol, &api.RetireGrantInput{GrantToken: g.GrantToken}), "")
	wantCode(t, enc(bob, tenantA), api.CodeNotFound)
	wantCode(t, enc(alice, nil, g.GrantToken), api.CodeInvalidGrantToken)
	wantCode(t, s.RetireGrant(carol, &api.RetireGrantInput{KeyId: id, GrantId: g.GrantId}), api.CodeInvalidGrantID)

	// Equals is exact; the grantee retires a grant that includes RetireGrant;
	// a key admin revokes.
	eq, _ := s.CreateGrant(alice, &api.CreateGrantInput{KeyId: id, GranteePrincipal: "uid:1001", Operations: []string{"Encrypt", "RetireGrant"},
		Constraints: api.GrantConstraints{EncryptionContextEquals: tenantA}})
	wantCode(t, enc(bob, tenantA), "")
	wantCode(t, enc(bob, map[string]string{"tenant": "a", "extra": "no"}), api.CodeAccessDenied)
	wantCode(t, s.RetireGrant(bob, &api.RetireGrantInput{KeyId: id, GrantId: eq.GrantId}), "")
	rv, _ := s.CreateGrant(alice, &api.CreateGrantInput{KeyId: id, GranteePrincipal: "uid:1001", Operations: []string{"Encrypt"}})
	wantCode(t, enc(bob, nil), "")
	wantCode(t, s.RevokeGrant(bob, &api.RevokeGrantInput{KeyId: id, GrantId: rv.GrantId}), api.CodeAccessDenied)
	wantCode(t, s.RevokeGrant(alice, &api.RevokeGrantInput{KeyId: id, GrantId: rv.GrantId}), "")
	wantCode(t, enc(bob, nil), api.CodeNotFound)

	for _, bad := range []api.CreateGrantInput{
		{KeyId: id, GranteePrincipal: "group:kms-admins", Operations: []string{"Encrypt"}},
		{KeyId: id, GranteePrincipal: "*", Operations: []string{"Encrypt"}},
		{KeyId: id, GranteePrincipal: "user:nobody", Operations: []string{"Encrypt"}},
		{KeyId: id, GranteePrincipal: "uid:1", Operations: []string{"Sign"}}, // a symmetric key does not sign
		{KeyId: id, GranteePrincipal: "uid:1", Operations: []string{"Launch"}},
		{KeyId: id, GranteePrincipal: "uid:1"},
		{KeyId: id, GranteePrincipal: "uid:1", Operations: []string{"Encrypt"}, Name: "bad name"},
		{KeyId: id, GranteePrincipal: "uid:1", Operations: []string{"Encrypt"}, Constraints: api.GrantConstraints{EncryptionContextEquals: map[string]string{"a": "1", "b": "2", "c": "3", "d": "4", "e": "5", "f": "6", "g": "7", "h": "8", "i": "9"}}},
	} {
		_, err := s.CreateGrant(alice, &bad)
		wantCode(t, err, api.CodeValidation)
	}
	_, err = s.CreateGrant(bob, &api.CreateGrantInput{KeyId: id, GranteePrincipal: "uid:1001", Operations: []string{"Encrypt"}})
	wantCode(t, err, api.CodeNotFound)
	s.DisableKey(alice, &api.KeyIDInput{KeyId: id})
	_, err = s.CreateGrant(alice, &api.CreateGrantInput{KeyId: id, GranteePrincipal: "uid:1", Operations: []string{"Encrypt"}})
	wantCode(t, err, api.CodeDisabled)
}

// TestChildGrantsOnlyNarrow: a grantee with CreateGrant may pass on at
// most what it has.
func TestChildGrantsOnlyNarrow(t *testing.T) {
	s := authService(t)
	id := keyOf(t, s, alice)
	parent := map[string]string{"tenant": "a"}
	_, err := s.CreateGrant(alice, &api.CreateGrantInput{KeyId: id, GranteePrincipal: "uid:1001",
		Operations: []string{"CreateGrant", "Encrypt", "Decrypt"}, Constraints: api.GrantConstraints{EncryptionContextSubset: parent}})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		in   api.CreateGrantInput
		code string
	}{
		{"same", api.CreateGrantInput{Operations: []string{"Encrypt"}, Constraints: api.GrantConstraints{EncryptionContextSubset: parent}}, ""},
		{"stricter subset", api.CreateGrantInput{Operations: []string{"Decrypt"}, Constraints: api.GrantConstraints{EncryptionContextSubset: map[string]string{"tenant": "a", "app": "x"}}}, ""},
		{"subset to equals", api.CreateGrantInput{Operations: []string{"Encrypt"}, Constraints: api.GrantConstraints{EncryptionContextEquals: map[string]string{"tenant": "a"}}}, ""},
		{"more operations", api.CreateGrantInput{Operations: []string{"Encrypt", "ReEncryptFrom"}, Constraints: api.GrantConstraints{EncryptionContextSubset: parent}}, api.CodeAccessDenied},
		{"no constraint", api.CreateGrantInput{Operations: []string{"Encrypt"}}, api.CodeAccessDenied},
		{"other tenant", api.CreateGrantInput{Operations: []string{"Encrypt"}, Constraints: api.GrantConstraints{EncryptionContextSubset: map[string]string{"tenant": "b"}}}, api.CodeAccessDenied},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := c.in
			in.KeyId, in.GranteePrincipal = id, "uid:1002"
			_, err := s.CreateGrant(bob, &in)
			wantCode(t, err, c.code)
		})
	}
}

func TestGrantQuota(t *testing.T) {
	s := authService(t, func(c *Config) { c.Quotas.GrantsPerKey = 3 })
	id := keyOf(t, s, alice)
	for i := range 3 {
		if _, err := s.CreateGrant(alice, &api.CreateGrantInput{KeyId: id, GranteePrincipal: fmt.Sprintf("uid:%d", 2000+i), Operations: []string{"Encrypt"}}); err != nil {
			t.Fatal(err)
		}
	}
	_, err := s.CreateGrant(alice, &api.CreateGrantInput{KeyId: id, GranteePrincipal: "uid:3000", Operations: []string{"Encrypt"}})
	wantCode(t, err, api.CodeLimitExceeded)
}

// TestGrantQuotaAtDefault fills the default 10,000 grants on one key.
func TestGrantQuotaAtDefault(t *testing.T) {
	if testing.Short() {
		t.Skip("makes 10,000 grants")
	}
	s := authService(t)
	id := keyOf(t, s, alice)
	for i := range DefaultQuotas.GrantsPerKey {
		if _, err := s.CreateGrant(alice, &api.CreateGrantInput{KeyId: id, GranteePrincipal: fmt.Sprintf("uid:%d", 10000+i), Operations: []string{"Encrypt"}}); err != nil {
			t.Fatalf("grant %d: %v", i, err)
		}
	}
	_, err := s.CreateGrant(alice, &api.CreateGrantInput{KeyId: id, GranteePrincipal: "uid:99", Operations: []string{"Encrypt"}})
	wantCode(t, err, api.CodeLimitExceeded)
	// The last grantee can use the key at once.
	last := as(&policy.Principal{UID: uint32(10000 + DefaultQuotas.GrantsPerKey - 1), GID: 1})
	if _, err := s.Encrypt(last, &api.EncryptInput{KeyId: id, Plaintext: []byte("x")}); err != nil {
		t.Fatal(err)
	}
}

func TestGrantsSurviveRestartAndKeyDeletion(t *testing.T) {
	dir := t.TempDir()
	c := newClock()
	withClock := func(cfg *Config) { cfg.Now, cfg.Resolver = c.Now, testResolver{} }
	s, err := openDir(t, dir, withClock)
	if err != nil {
		t.Fatal(err)
	}
	id := keyOf(t, s, alice)
	if _, err := s.CreateGrant(alice, &api.CreateGrantInput{KeyId: id, GranteePrincipal: "user:bob", Operations: []string{"Encrypt"}}); err != nil {
		t.Fatal(err)
	}
	pol := `{"Statement":[{"Effect":"Allow","Principal":{"Kmsd":["uid:1000","uid:1002"]},"Action":"kms:*","Resource":"*"}]}`
	wantCode(t, s.PutKeyPolicy(alice, &api.PutKeyPolicyInput{KeyId: id, Policy: pol}), "")
	s.Close()
	if s, err = openDir(t, dir, withClock); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Encrypt(bob, &api.EncryptInput{KeyId: id, Plaintext: []byte("x")}); err != nil {
		t.Fatalf("grant lost on restart: %v", err)
	}
	if _, err := s.Encrypt(carol, &api.EncryptInput{KeyId: id, Plaintext: []byte("x")}); err != nil {
		t.Fatalf("policy lost on restart: %v", err)
	}
	s.ScheduleKeyDeletion(alice, &api.ScheduleKeyDeletionInput{KeyId: id, PendingWindowInDays: api.Int32(7)})
	c.Advance(8 * day)
	if err := s.Tick(); err != nil {
		t.Fatal(err)
	}
	if r, _ := s.ListRetirableGrants(ctx, &api.ListRetirableGrantsInput{RetiringPrincipal: "uid:1000"}); len(r.Grants) != 0 {
		t.Fatal("grants outlived their key")
	}
	s.Close()
	if s, err = openDir(t, dir, withClock); err != nil {
		t.Fatalf("reopen after deleting a key with grants: %v", err)
	}
	s.Close()
}
