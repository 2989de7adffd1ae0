package kms

import (
	"strings"
	"testing"
	"time"

	"kmsd/wire/api"
)

func TestCreateDescribeList(t *testing.T) {
	s, c := testService(t)
	out, err := s.CreateKey(ctx, &api.CreateKeyInput{Description: "first", Tags: []api.Tag{{TagKey: "team", TagValue: "core"}}})
	if err != nil {
		t.Fatal(err)
	}
	md := out.KeyMetadata
	if md.KeyState != api.KeyStateEnabled || !md.Enabled || md.KeyUsage != api.KeyUsageEncryptDecrypt ||
		md.KeySpec != api.KeySpecSymmetric || md.Origin != api.OriginKMS || md.KeyManager != api.KeyManagerCustomer ||
		md.Description != "first" || !md.CreationDate.Equal(c.Now()) || md.Arn != testARNPrefix+"key/"+md.KeyId ||
		len(md.CurrentKeyMaterialId) != 64 || md.DeletionDate != nil || md.AWSAccountId != DefaultAccountID {
		t.Fatalf("metadata %+v", md)
	}
	for _, id := range []string{md.KeyId, md.Arn, strings.ToUpper(md.KeyId)} {
		d, err := s.DescribeKey(ctx, &api.DescribeKeyInput{KeyId: id})
		if err != nil || d.KeyMetadata.KeyId != md.KeyId {
			t.Fatalf("describe %s: %v", id, err)
		}
	}
	for _, bad := range []struct {
		in   *api.CreateKeyInput
		code string
	}{
		{&api.CreateKeyInput{KeyUsage: "SIGN_VERIFY"}, api.CodeValidation}, // a symmetric key's usage is ENCRYPT_DECRYPT
		{&api.CreateKeyInput{KeySpec: "RSA_1024"}, api.CodeValidation},     // no such spec
		{&api.CreateKeyInput{KeySpec: "HMAC_256"}, api.CodeValidation},     // KeyUsage defaults to ENCRYPT_DECRYPT, as AWS's
		{&api.CreateKeyInput{KeySpec: "ECC_SECG_P256K1", KeyUsage: "KEY_AGREEMENT"}, api.CodeValidation},
		{&api.CreateKeyInput{KeySpec: "RSA_2048", KeyUsage: "SIGN_VERIFY", CustomKeyStoreId: "cks-0123456789abcdef0"}, api.CodeUnsupportedOperation},
		{&api.CreateKeyInput{Origin: "AWS_CLOUDHSM"}, api.CodeUnsupportedOperation},
		{&api.CreateKeyInput{MultiRegion: true}, api.CodeUnsupportedOperation},
		{&api.CreateKeyInput{Description: strings.Repeat("d", 8193)}, api.CodeValidation},
		{&api.CreateKeyInput{Tags: []api.Tag{{TagKey: "aws:x", TagValue: "v"}}}, api.CodeTag},
	} {
		_, err := s.CreateKey(ctx, bad.in)
		wantCode(t, err, bad.code)
	}

	// Paging: 5 keys, 2 at a time, each once, in order.
	for range 4 {
		mustKey(t, s)
	}
	var seen []string
	marker := ""
	for pages := 0; ; pages++ {
		l, err := s.ListKeys(ctx, &api.ListKeysInput{Limit: api.Int32(2), Marker: marker})
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range l.Keys {
			if k.KeyArn != testARNPrefix+"key/"+k.KeyId {
				t.Fatalf("arn %s", k.KeyArn)
			}
			seen = append(seen, k.KeyId)
		}
		if !l.Truncated {
			if l.NextMarker != "" || pages != 2 {
				t.Fatalf("last page: %+v after %d pages", l, pages)
			}
			break
		}
		marker = l.NextMarker
	}
	if len(seen) != 5 || !sortedUnique(seen) {
		t.Fatalf("listed %v", seen)
	}
	_, err = s.ListKeys(ctx, &api.ListKeysInput{Limit: api.Int32(1001)})
	wantCode(t, err, api.CodeValidation)
	_, err = s.ListKeys(ctx, &api.ListKeysInput{Marker: "garbage"})
	wantCode(t, err, api.CodeInvalidMarker)
}

func sortedUnique(ids []string) bool {
	for i := 1; i < len(ids); i++ {
		if ids[i-1] >= ids[i] {
			return false
		}
	}
	return true
}

func TestKeyIdentifiers(t *testing.T) {
	s, _ := testService(t)
	id := mustKey(t, s)
	wantCode(t, s.CreateAlias(ctx, &api.AliasInput{AliasName: "alias/app", TargetKeyId: id}), "")
	cases := []struct {
		name, keyID string
		use         bool
		code        string
	}{
		{"alias in a use op", "alias/app", true, ""},
		{"alias ARN in a use op", testARNPrefix + "alias/app", true, ""},
		{"alias in a management op", "alias/app", false, api.CodeNotFound},
		{"alias ARN in a management op", testARNPrefix + "alias/app", false, api.CodeNotFound},
		{"key ARN in a management op", testARNPrefix + "key/" + id, false, ""},
		{"missing alias", "alias/nope", true, api.CodeNotFound},
		{"not a uuid", "1234", false, api.CodeNotFound},
		{"unknown key", "00000000-0000-4000-8000-000000000000", false, api.CodeNotFound},
		{"another account's ARN", "arn:aws:kms:us-east-1:111122223333:key/" + id, false, api.CodeNotFound},
		{"not a KMS ARN", "arn:aws:iam::111122223333:user/x", false, api.CodeInvalidArn},
		{"ARN of nothing", testARNPrefix + "grant/x", false, api.CodeInvalidArn},
		{"empty", "", false, api.CodeValidation},
		{"too long", strings.Repeat("a", 2049), false, api.CodeValidation},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var err error
			if c.use {
				_, err = s.Encrypt(ctx, &api.EncryptInput{KeyId: c.keyID, Plaintext: []byte("x")})
			} else {
				err = s.UpdateKeyDescription(ctx, &api.UpdateKeyDescriptionInput{KeyId: c.keyID, Description: "x"})
			}
			wantCode(t, err, c.code)
		})
	}
}

func TestDisableEnable(t *testing.T) {
	s, _ := testService(t)
	id := mustKey(t, s)
	blob := mustEncrypt(t, s, id, "x", nil)
	e := s.lookup(mustParse(t, id))
	if e.mats[0].Load() == nil {
		t.Fatal("version 1 not cached after use")
	}
	wantCode(t, s.DisableKey(ctx, &api.KeyIDInput{KeyId: id}), "")
	if e.mats[0].Load() != nil {
		t.Fatal("disabling did not drop the unsealed version")
	}
	_, err := s.Encrypt(ctx, &api.EncryptInput{KeyId: id, Plaintext: []byte("x")})
	wantCode(t, err, api.CodeDisabled)
	_, err = s.Decrypt(ctx, &api.DecryptInput{CiphertextBlob: blob})
	wantCode(t, err, api.CodeDisabled)
	wantCode(t, s.EnableKey(ctx, &api.KeyIDInput{KeyId: id}), "")
	if _, err := s.Decrypt(ctx, &api.DecryptInput{CiphertextBlob: blob}); err != nil {
		t.Fatal(err)
	}
}

func TestDeletionLifecycle(t *testing.T) {
	s, c := testService(t)
	id := mustKey(t, s)
	other := mustKey(t, s)
	blob := mustEncrypt(t, s, id, "bye", nil)
	wantCode(t, s.CreateAlias(ctx, &api.AliasInput{AliasName: "alias/doomed", TargetKeyId: id}), "")
	wantCode(t, s.CreateAlias(ctx, &api.AliasInput{AliasName: "alias/kept", TargetKeyId: other}), "")

	for _, days := range []int32{0, 6, 31, -1} { // 0 is a value, not "the default"
		_, err := s.ScheduleKeyDeletion(ctx, &api.ScheduleKeyDeletionInput{KeyId: id, PendingWindowInDays: api.Int32(days)})
		wantCode(t, err, api.CodeValidation)
	}
	out, err := s.ScheduleKeyDeletion(ctx, &api.ScheduleKeyDeletionInput{KeyId: id})
	if err != nil {
		t.Fatal(err)
	}
	if out.PendingWindowInDays == nil || *out.PendingWindowInDays != 30 || !out.DeletionDate.Equal(c.Now().Add(30*day)) || out.KeyState != api.KeyStatePendingDeletion {
		t.Fatalf("default window: %+v", out)
	}
	md, _ := s.DescribeKey(ctx, &api.DescribeKeyInput{KeyId: id})
	if md.KeyMetadata.DeletionDate == nil || md.KeyMetadata.PendingDeletionWindowInDays == nil || *md.KeyMetadata.PendingDeletionWindowInDays != 30 {
		t.Fatalf("describe while pending: %+v", md.KeyMetadata)
	}
	if _, err := s.CancelKeyDeletion(ctx, &api.KeyIDInput{KeyId: id}); err != nil {
		t.Fatal(err)
	}
	md, _ = s.DescribeKey(ctx, &api.DescribeKeyInput{KeyId: id})
	if md.KeyMetadata.KeyState != api.KeyStateDisabled || md.KeyMetadata.DeletionDate != nil {
		t.Fatalf("after cancel: %+v", md.KeyMetadata)
	}

	if _, err := s.ScheduleKeyDeletion(ctx, &api.ScheduleKeyDeletionInput{KeyId: id, PendingWindowInDays: api.Int32(7)}); err != nil {
		t.Fatal(err)
	}
	c.Advance(7*day - time.Second)
	if err := s.Tick(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DescribeKey(ctx, &api.DescribeKeyInput{KeyId: id}); err != nil {
		t.Fatalf("deleted a second early: %v", err)
	}
	e := s.lookup(mustParse(t, id))
	c.Advance(time.Second)
	if err := s.Tick(); err != nil {
		t.Fatal(err)
	}
	_, err = s.DescribeKey(ctx, &api.DescribeKeyInput{KeyId: id})
	wantCode(t, err, api.CodeNotFound)
	_, err = s.DescribeKey(ctx, &api.DescribeKeyInput{KeyId: "alias/doomed"})
	wantCode(t, err, api.CodeNotFound)
	_, err = s.Decrypt(ctx, &api.DecryptInput{CiphertextBlob: blob})
	wantCode(t, err, api.CodeNotFound)
	if !e.deleted || e.mats[0].Load() != nil {
		t.Fatal("deleted key still holds material")
	}
	l, _ := s.ListAliases(ctx, &api.ListAliasesInput{})
	if len(l.Aliases) != 1 || l.Aliases[0].AliasName != "alias/kept" {
		t.Fatalf("aliases after deletion: %+v", l.Aliases)
	}
	if n := s.KeyCount(); n != 1 {
		t.Fatalf("%d keys", n)
	}
}

// TestSchedulerLoop checks that the background loop, not only Tick called
// by hand, deletes a key once the clock passes its date.
func TestSchedulerLoop(t *testing.T) {
	s, c := testService(t, func(cfg *Config) { cfg.TickInterval = 5 * time.Millisecond })
	id := mustKey(t, s)
	if _, err := s.ScheduleKeyDeletion(ctx, &api.ScheduleKeyDeletionInput{KeyId: id, PendingWindowInDays: api.Int32(7)}); err != nil {
		t.Fatal(err)
	}
	c.Advance(8 * day)
	deadline := time.Now().Add(10 * time.Second)
	for s.KeyCount() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the background loop did not delete the key")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestUpdateDescription(t *testing.T) {
	s, _ := testService(t)
	id := mustKey(t, s)
	wantCode(t, s.UpdateKeyDescription(ctx, &api.UpdateKeyDescriptionInput{KeyId: id, Description: "changed"}), "")
	md, _ := s.DescribeKey(ctx, &api.DescribeKeyInput{KeyId: id})
	if md.KeyMetadata.Description != "changed" {
		t.Fatal(md.KeyMetadata.Description)
	}
	wantCode(t, s.UpdateKeyDescription(ctx, &api.UpdateKeyDescriptionInput{KeyId: id, Description: "\xff"}), api.CodeValidation)
}
