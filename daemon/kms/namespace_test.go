package kms

import (
	"context"
	"slices"
	"testing"

	"kmsd/wire/api"
)

// aliasesSeen is the alias names c's ListAliases returns.
func aliasesSeen(t *testing.T, s *Service, c context.Context) []string {
	t.Helper()
	out, err := s.ListAliases(c, &api.ListAliasesInput{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, a := range out.Aliases {
		names = append(names, a.AliasName)
	}
	return names
}

// keyUnder is the key alias resolves to for c, or the error.
func keyUnder(s *Service, c context.Context, alias string) (string, error) {
	out, err := s.DescribeKey(c, &api.DescribeKeyInput{KeyId: alias})
	if err != nil {
		return "", err
	}
	return out.KeyMetadata.KeyId, nil
}

// TestNoAliasSquatting: alice (any user) names her key alias/backup first.
// Root's alias/backup is still root's own: it is created, root's requests
// resolve to root's key, and alice's to hers; nothing alice does with her
// aliases changes what root or bob resolve; an administrator's alias is
// seen by every user whose names do not shadow it.
func TestNoAliasSquatting(t *testing.T) {
	s := authService(t)
	hers, roots := keyOf(t, s, alice), keyOf(t, s, ctx)
	if err := s.CreateAlias(alice, &api.AliasInput{AliasName: "alias/backup", TargetKeyId: hers}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateAlias(ctx, &api.AliasInput{AliasName: "alias/backup", TargetKeyId: roots}); err != nil {
		t.Fatalf("root's alias/backup after alice's: %v", err)
	}
	for _, c := range []struct {
		name string
		ctx  context.Context
		want string
	}{{"root", ctx, roots}, {"an admin", carol, roots}, {"alice", alice, hers}} {
		if got, err := keyUnder(s, c.ctx, "alias/backup"); err != nil || got != c.want {
			t.Errorf("%s's alias/backup is %s (%v), want %s", c.name, got, err, c.want)
		}
	}
	// Alice changes and deletes hers: root's stays; she cannot touch root's.
	other := keyOf(t, s, alice)
	if err := s.UpdateAlias(alice, &api.AliasInput{AliasName: "alias/backup", TargetKeyId: other}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteAlias(alice, &api.DeleteAliasInput{AliasName: "alias/backup"}); err != nil {
		t.Fatal(err)
	}
	if got, _ := keyUnder(s, ctx, "alias/backup"); got != roots {
		t.Errorf("root's alias/backup changed to %s by alice's doing", got)
	}
	err := s.DeleteAlias(alice, &api.DeleteAliasInput{AliasName: "alias/backup"})
	wantCode(t, err, api.CodeNotFound) // root's key is not alice's to see
	// Bob sees neither alice's aliases nor root's (whose key he may not see).
	s.CreateAlias(alice, &api.AliasInput{AliasName: "alias/mine", TargetKeyId: hers})
	if names := aliasesSeen(t, s, bob); len(names) != 0 {
		t.Errorf("bob sees %v", names)
	}
	if names := aliasesSeen(t, s, alice); !slices.Equal(names, []string{"alias/mine"}) {
		t.Errorf("alice sees %v", names)
	}
	// An administrator's alias of a key alice may use: alice sees and
	// resolves it, and cannot change it.
	shared := keyOf(t, s, ctx)
	if err := s.PutKeyPolicy(ctx, &api.PutKeyPolicyInput{KeyId: shared, PolicyName: "default", Policy: `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Principal":{"Kmsd":"uid:0"},"Action":"kms:*","Resource":"*"},
		{"Effect":"Allow","Principal":{"Kmsd":"uid:1000"},"Action":["kms:Encrypt","kms:DescribeKey"],"Resource":"*"}]}`}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateAlias(ctx, &api.AliasInput{AliasName: "alias/shared", TargetKeyId: shared}); err != nil {
		t.Fatal(err)
	}
	if got, err := keyUnder(s, alice, "alias/shared"); err != nil || got != shared {
		t.Errorf("alice's alias/shared: %s %v", got, err)
	}
	if names := aliasesSeen(t, s, alice); !slices.Equal(names, []string{"alias/mine", "alias/shared"}) {
		t.Errorf("alice sees %v", names)
	}
	err = s.DeleteAlias(alice, &api.DeleteAliasInput{AliasName: "alias/shared"})
	wantCode(t, err, api.CodeAccessDenied)
}

// TestAliasErrorsDoNotLeak: for an alias whose key the caller may not
// see, every answer is the one for an alias that does not exist, word for
// word; AlreadyExists never tells of another user's alias.
func TestAliasErrorsDoNotLeak(t *testing.T) {
	s := authService(t)
	roots := keyOf(t, s, ctx)
	s.CreateAlias(ctx, &api.AliasInput{AliasName: "alias/secret", TargetKeyId: roots})
	for _, op := range []func(c context.Context, alias string) error{
		func(c context.Context, a string) error { _, err := keyUnder(s, c, a); return err },
		func(c context.Context, a string) error {
			_, err := s.Encrypt(c, &api.EncryptInput{KeyId: a, Plaintext: []byte("x")})
			return err
		},
		func(c context.Context, a string) error {
			_, err := s.GenerateDataKey(c, &api.GenerateDataKeyInput{KeyId: a, KeySpec: "AES_256"})
			return err
		},
		func(c context.Context, a string) error { return s.DeleteAlias(c, &api.DeleteAliasInput{AliasName: a}) },
	} {
		hidden, missing := op(bob, "alias/secret"), op(bob, "alias/absent")
		if hidden == nil || missing == nil {
			t.Fatalf("bob reached a key: %v %v", hidden, missing)
		}
		h := hidden.Error()
		m := missing.Error()
		if h != replaceName(m, "alias/absent", "alias/secret") {
			t.Errorf("an alias of a key bob may not see answers %q; a missing one %q", h, m)
		}
	}
	// Bob makes alias/secret too: his own, not an AlreadyExists that
	// tells him root has one.
	his := keyOf(t, s, bob)
	if err := s.CreateAlias(bob, &api.AliasInput{AliasName: "alias/secret", TargetKeyId: his}); err != nil {
		t.Fatalf("bob's alias/secret: %v", err)
	}
	if err := s.CreateAlias(bob, &api.AliasInput{AliasName: "alias/secret", TargetKeyId: his}); api.CodeOf(err) != api.CodeAlreadyExists {
		t.Fatalf("bob's second alias/secret: %v", err)
	}
}

func replaceName(s, from, to string) string {
	out := []byte{}
	for i := 0; i < len(s); {
		if len(s)-i >= len(from) && s[i:i+len(from)] == from {
			out = append(out, to...)
			i += len(from)
			continue
		}
		out = append(out, s[i])
		i++
	}
	return string(out)
}
