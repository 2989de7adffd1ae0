package kms

import (
	"testing"

	"kmsd/wire/api"
)

// testARNPrefix is the ARNs' prefix with the default region and account.
const testARNPrefix = "arn:aws:kms:" + DefaultRegion + ":" + DefaultAccountID + ":"

// TestARNs: ARNs are AWS's, in the configured region and account; the
// older kmsd form is still taken, also in a policy's Resource; another
// region's or account's ARN is a key that is not here, and what is no
// KMS ARN is InvalidArnException.
func TestARNs(t *testing.T) {
	s, _ := testService(t, func(c *Config) { c.Region, c.AccountID = "eu-west-3", "123456789012" })
	md := mustCreate(t, s)
	prefix := "arn:aws:kms:eu-west-3:123456789012:"
	if md.Arn != prefix+"key/"+md.KeyId || md.AWSAccountId != "123456789012" {
		t.Fatalf("ARN %s, account %s", md.Arn, md.AWSAccountId)
	}
	if err := s.CreateAlias(ctx, &api.AliasInput{AliasName: "alias/arn", TargetKeyId: md.KeyId}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{md.Arn, LegacyARNPrefix + "key/" + md.KeyId, prefix + "alias/arn", LegacyARNPrefix + "alias/arn"} {
		if _, err := s.Encrypt(ctx, &api.EncryptInput{KeyId: id, Plaintext: []byte("x")}); err != nil {
			t.Errorf("Encrypt with %s: %v", id, err)
		}
	}
	for id, code := range map[string]string{
		"arn:aws:kms:us-east-1:123456789012:key/" + md.KeyId: api.CodeNotFound,
		"arn:aws:kms:eu-west-3:210987654321:key/" + md.KeyId: api.CodeNotFound,
		"arn:aws:s3:::bucket":                                api.CodeInvalidArn,
		"arn:aws:kms:eu-west-3:123456789012:grant/x":         api.CodeInvalidArn,
	} {
		if _, err := s.DescribeKey(ctx, &api.DescribeKeyInput{KeyId: id}); api.CodeOf(err) != code {
			t.Errorf("DescribeKey %s: %v, want %s", id, err, code)
		}
	}
	// A policy whose Resource is the key's older ARN still allows.
	legacy := `{"Statement":[{"Effect":"Allow","Principal":{"Kmsd":"uid:0"},"Action":"kms:*","Resource":"` + LegacyARNPrefix + `key/` + md.KeyId + `"}]}`
	if err := s.PutKeyPolicy(ctx, &api.PutKeyPolicyInput{KeyId: md.KeyId, PolicyName: "default", Policy: legacy}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Encrypt(ctx, &api.EncryptInput{KeyId: md.KeyId, Plaintext: []byte("x")}); err != nil {
		t.Errorf("under a policy naming the older ARN: %v", err)
	}
	if got, _ := s.GetKeyPolicy(ctx, &api.GetKeyPolicyInput{KeyId: md.KeyId, PolicyName: "default"}); got.Policy != legacy {
		t.Errorf("the policy came back changed: %s", got.Policy)
	}
	for _, bad := range [][2]string{{"US-EAST-1", "123456789012"}, {"", "123456789012"}, {"local", "12345"}, {"local", "12345678901a"}} {
		if ValidateARNParts(bad[0], bad[1]) == nil {
			t.Errorf("region %q and account %q were accepted", bad[0], bad[1])
		}
	}
}

func mustCreate(t *testing.T, s *Service) api.KeyMetadata {
	t.Helper()
	out, err := s.CreateKey(ctx, &api.CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	return out.KeyMetadata
}
