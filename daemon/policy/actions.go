package policy

import "strings"

// Actions are the kms: actions a policy can name. Key actions apply to one
// key; the rest are listed so that policies copied from AWS stay valid.
var Actions = []string{
	"kms:CancelKeyDeletion", "kms:CreateAlias", "kms:CreateGrant", "kms:Decrypt", "kms:DeleteAlias",
	"kms:DescribeKey", "kms:DisableKey", "kms:DisableKeyRotation", "kms:EnableKey", "kms:EnableKeyRotation",
	"kms:Encrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:GetKeyPolicy",
	"kms:GetKeyLastUsage", "kms:GetKeyRotationStatus", "kms:ListGrants", "kms:ListKeyPolicies", "kms:ListKeyRotations",
	"kms:ListResourceTags", "kms:PutKeyPolicy", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:RetireGrant",
	"kms:RevokeGrant", "kms:RotateKeyOnDemand", "kms:ScheduleKeyDeletion", "kms:TagResource",
	"kms:UntagResource", "kms:UpdateAlias", "kms:UpdateKeyDescription",
	"kms:GetParametersForImport", "kms:ImportKeyMaterial", "kms:DeleteImportedKeyMaterial",
	"kms:Sign", "kms:Verify", "kms:GetPublicKey", "kms:GenerateMac", "kms:VerifyMac", "kms:DeriveSharedSecret",
	"kms:GenerateDataKeyPair", "kms:GenerateDataKeyPairWithoutPlaintext",
	// Not about one key; accepted in policies and ignored.
	"kms:CreateKey", "kms:ListKeys", "kms:ListAliases", "kms:GenerateRandom", "kms:ListRetirableGrants",
	"kms:CreateCustomKeyStore", "kms:DescribeCustomKeyStores", "kms:UpdateCustomKeyStore", "kms:ConnectCustomKeyStore",
	"kms:DisconnectCustomKeyStore", "kms:DeleteCustomKeyStore",
}

// CryptoActions use a key's material; every other key action manages it.
var CryptoActions = map[string]bool{
	"kms:Encrypt": true, "kms:Decrypt": true, "kms:ReEncryptFrom": true, "kms:ReEncryptTo": true,
	"kms:GenerateDataKey": true, "kms:GenerateDataKeyWithoutPlaintext": true,
	"kms:Sign": true, "kms:Verify": true, "kms:GetPublicKey": true, "kms:GenerateMac": true, "kms:VerifyMac": true,
	"kms:DeriveSharedSecret": true, "kms:GenerateDataKeyPair": true, "kms:GenerateDataKeyPairWithoutPlaintext": true,
}

var knownActions = func() map[string]string {
	m := make(map[string]string, len(Actions))
	for _, a := range Actions {
		m[strings.ToLower(a)] = a
	}
	return m
}()

// canonicalAction returns the action as listed in Actions, for a name in
// any case, or "" if it is unknown.
func canonicalAction(a string) string { return knownActions[strings.ToLower(a)] }

// matchAction reports whether an action pattern (lower case) matches an
// action (any case).
func matchAction(pattern, action string) bool {
	return glob(pattern, strings.ToLower(action))
}

// glob matches s against a pattern where * matches any run of characters
// and ? any one character. It runs in O(len(pattern)*len(s)) at worst.
func glob(pattern, s string) bool {
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i]):
			p++
			i++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}
