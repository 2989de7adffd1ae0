package kms

import (
	"fmt"
	"testing"

	"kmsd/wire/api"
)

// TestQuotasAtDefaults fills the default key and alias quotas (10,000
// each) and checks the next create is LimitExceededException, then that a
// configured quota is honoured too. The grants-per-key quota is enforced
// by CreateGrant and tested with it.
func TestQuotasAtDefaults(t *testing.T) {
	if testing.Short() {
		t.Skip("fills 10,000 keys and aliases")
	}
	s, _ := testService(t)
	if s.cfg.Quotas != DefaultQuotas {
		t.Fatalf("defaults %+v", s.cfg.Quotas)
	}
	var first string
	for i := range DefaultQuotas.Keys {
		id := mustKey(t, s)
		if i == 0 {
			first = id
		}
	}
	_, err := s.CreateKey(ctx, &api.CreateKeyInput{})
	wantCode(t, err, api.CodeLimitExceeded)
	for i := range DefaultQuotas.Aliases {
		if err := s.CreateAlias(ctx, &api.AliasInput{AliasName: fmt.Sprintf("alias/q%05d", i), TargetKeyId: first}); err != nil {
			t.Fatal(err)
		}
	}
	wantCode(t, s.CreateAlias(ctx, &api.AliasInput{AliasName: "alias/over", TargetKeyId: first}), api.CodeLimitExceeded)
	// Deleting one frees one.
	wantCode(t, s.DeleteAlias(ctx, &api.DeleteAliasInput{AliasName: "alias/q00000"}), "")
	wantCode(t, s.CreateAlias(ctx, &api.AliasInput{AliasName: "alias/over", TargetKeyId: first}), "")
}

func TestQuotasConfigured(t *testing.T) {
	s, c := testService(t, func(cfg *Config) { cfg.Quotas = Quotas{Keys: 2, Aliases: 1} })
	a := mustKey(t, s)
	mustKey(t, s)
	_, err := s.CreateKey(ctx, &api.CreateKeyInput{})
	wantCode(t, err, api.CodeLimitExceeded)
	wantCode(t, s.CreateAlias(ctx, &api.AliasInput{AliasName: "alias/one", TargetKeyId: a}), "")
	wantCode(t, s.CreateAlias(ctx, &api.AliasInput{AliasName: "alias/two", TargetKeyId: a}), api.CodeLimitExceeded)
	// A key pending deletion still counts, as in AWS; once deleted it does not.
	s.ScheduleKeyDeletion(ctx, &api.ScheduleKeyDeletionInput{KeyId: a, PendingWindowInDays: api.Int32(7)})
	_, err = s.CreateKey(ctx, &api.CreateKeyInput{})
	wantCode(t, err, api.CodeLimitExceeded)
	c.Advance(7 * day)
	s.Tick()
	if _, err := s.CreateKey(ctx, &api.CreateKeyInput{}); err != nil {
		t.Fatal(err)
	}
	wantCode(t, s.CreateAlias(ctx, &api.AliasInput{AliasName: "alias/two", TargetKeyId: mustKeyIDs(t, s)[0]}), "")
}

func mustKeyIDs(t *testing.T, s *Service) []string {
	t.Helper()
	l, err := s.ListKeys(ctx, &api.ListKeysInput{})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, k := range l.Keys {
		ids = append(ids, k.KeyId)
	}
	return ids
}
