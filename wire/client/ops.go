package client

import (
	"context"
	"kmsd/wire/api"
)

// One method per operation. Errors are *api.Error (with an AWS exception name
// as Code) for answers from kmsd, and wrap ErrConnection when kmsd could
// not be reached.

// Status reports the daemon's version, suite, CPU features, key count, uptime and queue depth.
func (c *Client) Status(ctx context.Context, in *api.StatusInput) (*api.StatusOutput, error) {
	return call1[api.StatusOutput](c, ctx, api.OpStatus, in)
}

// CreateKey creates a symmetric key.
func (c *Client) CreateKey(ctx context.Context, in *api.CreateKeyInput) (*api.KeyMetadataOutput, error) {
	return call1[api.KeyMetadataOutput](c, ctx, api.OpCreateKey, in)
}

// DescribeKey returns a key's metadata; aliases resolve.
func (c *Client) DescribeKey(ctx context.Context, in *api.DescribeKeyInput) (*api.KeyMetadataOutput, error) {
	return call1[api.KeyMetadataOutput](c, ctx, api.OpDescribeKey, in)
}

// ListKeys lists keys, a page at a time.
func (c *Client) ListKeys(ctx context.Context, in *api.ListKeysInput) (*api.ListKeysOutput, error) {
	return call1[api.ListKeysOutput](c, ctx, api.OpListKeys, in)
}

// UpdateKeyDescription replaces a key's description.
func (c *Client) UpdateKeyDescription(ctx context.Context, in *api.UpdateKeyDescriptionInput) (*api.Empty, error) {
	return call1[api.Empty](c, ctx, api.OpUpdateKeyDescription, in)
}

// EnableKey makes a Disabled key Enabled.
func (c *Client) EnableKey(ctx context.Context, in *api.KeyIDInput) (*api.Empty, error) {
	return call1[api.Empty](c, ctx, api.OpEnableKey, in)
}

// DisableKey makes a key Disabled.
func (c *Client) DisableKey(ctx context.Context, in *api.KeyIDInput) (*api.Empty, error) {
	return call1[api.Empty](c, ctx, api.OpDisableKey, in)
}

// ScheduleKeyDeletion schedules a key's deletion after 7 to 30 days.
func (c *Client) ScheduleKeyDeletion(ctx context.Context, in *api.ScheduleKeyDeletionInput) (*api.ScheduleKeyDeletionOutput, error) {
	return call1[api.ScheduleKeyDeletionOutput](c, ctx, api.OpScheduleKeyDeletion, in)
}

// CancelKeyDeletion cancels a scheduled deletion; the key comes back Disabled.
func (c *Client) CancelKeyDeletion(ctx context.Context, in *api.KeyIDInput) (*api.KeyIDOutput, error) {
	return call1[api.KeyIDOutput](c, ctx, api.OpCancelKeyDeletion, in)
}

// CreateAlias creates an alias for a key.
func (c *Client) CreateAlias(ctx context.Context, in *api.AliasInput) (*api.Empty, error) {
	return call1[api.Empty](c, ctx, api.OpCreateAlias, in)
}

// UpdateAlias points an alias at another key.
func (c *Client) UpdateAlias(ctx context.Context, in *api.AliasInput) (*api.Empty, error) {
	return call1[api.Empty](c, ctx, api.OpUpdateAlias, in)
}

// DeleteAlias deletes an alias.
func (c *Client) DeleteAlias(ctx context.Context, in *api.DeleteAliasInput) (*api.Empty, error) {
	return call1[api.Empty](c, ctx, api.OpDeleteAlias, in)
}

// ListAliases lists aliases, optionally of one key.
func (c *Client) ListAliases(ctx context.Context, in *api.ListAliasesInput) (*api.ListAliasesOutput, error) {
	return call1[api.ListAliasesOutput](c, ctx, api.OpListAliases, in)
}

// TagResource adds or replaces tags on a key.
func (c *Client) TagResource(ctx context.Context, in *api.TagResourceInput) (*api.Empty, error) {
	return call1[api.Empty](c, ctx, api.OpTagResource, in)
}

// UntagResource removes tags from a key.
func (c *Client) UntagResource(ctx context.Context, in *api.UntagResourceInput) (*api.Empty, error) {
	return call1[api.Empty](c, ctx, api.OpUntagResource, in)
}

// ListResourceTags lists a key's tags.
func (c *Client) ListResourceTags(ctx context.Context, in *api.ListResourceTagsInput) (*api.ListResourceTagsOutput, error) {
	return call1[api.ListResourceTagsOutput](c, ctx, api.OpListResourceTags, in)
}

// Encrypt encrypts 1 to 4096 bytes under a key.
func (c *Client) Encrypt(ctx context.Context, in *api.EncryptInput) (*api.EncryptOutput, error) {
	return call1[api.EncryptOutput](c, ctx, api.OpEncrypt, in)
}

// Decrypt decrypts a ciphertext blob.
func (c *Client) Decrypt(ctx context.Context, in *api.DecryptInput) (*api.DecryptOutput, error) {
	return call1[api.DecryptOutput](c, ctx, api.OpDecrypt, in)
}

// ReEncrypt decrypts and re-encrypts a blob inside kmsd.
func (c *Client) ReEncrypt(ctx context.Context, in *api.ReEncryptInput) (*api.ReEncryptOutput, error) {
	return call1[api.ReEncryptOutput](c, ctx, api.OpReEncrypt, in)
}

// GenerateDataKey returns a new data key, in plaintext and encrypted.
func (c *Client) GenerateDataKey(ctx context.Context, in *api.GenerateDataKeyInput) (*api.GenerateDataKeyOutput, error) {
	return call1[api.GenerateDataKeyOutput](c, ctx, api.OpGenerateDataKey, in)
}

// GenerateDataKeyWithoutPlaintext returns a new data key, encrypted only.
func (c *Client) GenerateDataKeyWithoutPlaintext(ctx context.Context, in *api.GenerateDataKeyInput) (*api.GenerateDataKeyOutput, error) {
	return call1[api.GenerateDataKeyOutput](c, ctx, api.OpGenerateDataKeyWithoutPlaintext, in)
}

// GenerateRandom returns 1 to 1024 random bytes.
func (c *Client) GenerateRandom(ctx context.Context, in *api.GenerateRandomInput) (*api.GenerateRandomOutput, error) {
	return call1[api.GenerateRandomOutput](c, ctx, api.OpGenerateRandom, in)
}

// EnableKeyRotation turns on automatic rotation.
func (c *Client) EnableKeyRotation(ctx context.Context, in *api.EnableKeyRotationInput) (*api.Empty, error) {
	return call1[api.Empty](c, ctx, api.OpEnableKeyRotation, in)
}

// DisableKeyRotation turns off automatic rotation.
func (c *Client) DisableKeyRotation(ctx context.Context, in *api.KeyIDInput) (*api.Empty, error) {
	return call1[api.Empty](c, ctx, api.OpDisableKeyRotation, in)
}

// GetKeyRotationStatus reports a key's automatic rotation.
func (c *Client) GetKeyRotationStatus(ctx context.Context, in *api.KeyIDInput) (*api.GetKeyRotationStatusOutput, error) {
	return call1[api.GetKeyRotationStatusOutput](c, ctx, api.OpGetKeyRotationStatus, in)
}

// RotateKeyOnDemand adds a new version of a key's material now.
func (c *Client) RotateKeyOnDemand(ctx context.Context, in *api.KeyIDInput) (*api.KeyIDOutput, error) {
	return call1[api.KeyIDOutput](c, ctx, api.OpRotateKeyOnDemand, in)
}

// ListKeyRotations lists a key's rotations.
func (c *Client) ListKeyRotations(ctx context.Context, in *api.ListKeyRotationsInput) (*api.ListKeyRotationsOutput, error) {
	return call1[api.ListKeyRotationsOutput](c, ctx, api.OpListKeyRotations, in)
}

// PutKeyPolicy replaces a key's policy.
func (c *Client) PutKeyPolicy(ctx context.Context, in *api.PutKeyPolicyInput) (*api.Empty, error) {
	return call1[api.Empty](c, ctx, api.OpPutKeyPolicy, in)
}

// GetKeyPolicy returns a key's policy.
func (c *Client) GetKeyPolicy(ctx context.Context, in *api.GetKeyPolicyInput) (*api.GetKeyPolicyOutput, error) {
	return call1[api.GetKeyPolicyOutput](c, ctx, api.OpGetKeyPolicy, in)
}

// ListKeyPolicies lists a key's policy names (always default).
func (c *Client) ListKeyPolicies(ctx context.Context, in *api.ListKeyPoliciesInput) (*api.ListKeyPoliciesOutput, error) {
	return call1[api.ListKeyPoliciesOutput](c, ctx, api.OpListKeyPolicies, in)
}

// CreateGrant gives a principal some operations on a key.
func (c *Client) CreateGrant(ctx context.Context, in *api.CreateGrantInput) (*api.CreateGrantOutput, error) {
	return call1[api.CreateGrantOutput](c, ctx, api.OpCreateGrant, in)
}

// ListGrants lists a key's grants.
func (c *Client) ListGrants(ctx context.Context, in *api.ListGrantsInput) (*api.ListGrantsOutput, error) {
	return call1[api.ListGrantsOutput](c, ctx, api.OpListGrants, in)
}

// ListRetirableGrants lists the grants a principal may retire.
func (c *Client) ListRetirableGrants(ctx context.Context, in *api.ListRetirableGrantsInput) (*api.ListGrantsOutput, error) {
	return call1[api.ListGrantsOutput](c, ctx, api.OpListRetirableGrants, in)
}

// RetireGrant retires a grant (by its retiring principal or grantee).
func (c *Client) RetireGrant(ctx context.Context, in *api.RetireGrantInput) (*api.Empty, error) {
	return call1[api.Empty](c, ctx, api.OpRetireGrant, in)
}

// RevokeGrant revokes a grant (by a key administrator).
func (c *Client) RevokeGrant(ctx context.Context, in *api.RevokeGrantInput) (*api.Empty, error) {
	return call1[api.Empty](c, ctx, api.OpRevokeGrant, in)
}

// GetKeyLastUsage returns a key's last successful cryptographic use.
func (c *Client) GetKeyLastUsage(ctx context.Context, in *api.KeyIDInput) (*api.GetKeyLastUsageOutput, error) {
	return call1[api.GetKeyLastUsageOutput](c, ctx, api.OpGetKeyLastUsage, in)
}

// GetUsage counts requests by key and principal over a recent window.
func (c *Client) GetUsage(ctx context.Context, in *api.GetUsageInput) (*api.GetUsageOutput, error) {
	return call1[api.GetUsageOutput](c, ctx, api.OpGetUsage, in)
}

// VerifyAuditCheckpoints checks audit checkpoint MACs (root or the admin group).
func (c *Client) VerifyAuditCheckpoints(ctx context.Context, in *api.VerifyAuditCheckpointsInput) (*api.VerifyAuditCheckpointsOutput, error) {
	return call1[api.VerifyAuditCheckpointsOutput](c, ctx, api.OpVerifyAuditCheckpoints, in)
}

// CreateBackup has kmsd take a sealed snapshot of its store (root or the
// admin group); read it with GetBackupPart.
func (c *Client) CreateBackup(ctx context.Context, in *api.CreateBackupInput) (*api.CreateBackupOutput, error) {
	return call1[api.CreateBackupOutput](c, ctx, api.OpCreateBackup, in)
}

// GetBackupPart reads a backup from an offset.
func (c *Client) GetBackupPart(ctx context.Context, in *api.GetBackupPartInput) (*api.GetBackupPartOutput, error) {
	return call1[api.GetBackupPartOutput](c, ctx, api.OpGetBackupPart, in)
}

// RotateRootKey has kmsd re-seal every key under a new root key (root only).
func (c *Client) RotateRootKey(ctx context.Context, in *api.RotateRootKeyInput) (*api.RotateRootKeyOutput, error) {
	return call1[api.RotateRootKeyOutput](c, ctx, api.OpRotateRootKey, in)
}

// CreateAccessKey issues an access key for kmsd's AWS endpoint on TCP,
// acting as in.Principal (default: the caller); the secret is in this
// answer only.
func (c *Client) CreateAccessKey(ctx context.Context, in *api.CreateAccessKeyInput) (*api.CreateAccessKeyOutput, error) {
	return call1[api.CreateAccessKeyOutput](c, ctx, api.OpCreateAccessKey, in)
}

// ListAccessKeys lists access keys, without their secrets.
func (c *Client) ListAccessKeys(ctx context.Context, in *api.ListAccessKeysInput) (*api.ListAccessKeysOutput, error) {
	return call1[api.ListAccessKeysOutput](c, ctx, api.OpListAccessKeys, in)
}

// DeleteAccessKey deletes an access key.
func (c *Client) DeleteAccessKey(ctx context.Context, in *api.DeleteAccessKeyInput) (*api.Empty, error) {
	return call1[api.Empty](c, ctx, api.OpDeleteAccessKey, in)
}

// GetParametersForImport returns a wrapping key and an import token for an
// EXTERNAL key.
func (c *Client) GetParametersForImport(ctx context.Context, in *api.GetParametersForImportInput) (*api.GetParametersForImportOutput, error) {
	return call1[api.GetParametersForImportOutput](c, ctx, api.OpGetParametersForImport, in)
}

// ImportKeyMaterial imports wrapped material into an EXTERNAL key.
func (c *Client) ImportKeyMaterial(ctx context.Context, in *api.ImportKeyMaterialInput) (*api.ImportKeyMaterialOutput, error) {
	return call1[api.ImportKeyMaterialOutput](c, ctx, api.OpImportKeyMaterial, in)
}

// DeleteImportedKeyMaterial deletes a key's imported material.
func (c *Client) DeleteImportedKeyMaterial(ctx context.Context, in *api.DeleteImportedKeyMaterialInput) (*api.DeleteImportedKeyMaterialOutput, error) {
	return call1[api.DeleteImportedKeyMaterialOutput](c, ctx, api.OpDeleteImportedKeyMaterial, in)
}

// CreateCustomKeyStore adds a custom key store (a PKCS#11 token).
func (c *Client) CreateCustomKeyStore(ctx context.Context, in *api.CreateCustomKeyStoreInput) (*api.CreateCustomKeyStoreOutput, error) {
	return call1[api.CreateCustomKeyStoreOutput](c, ctx, api.OpCreateCustomKeyStore, in)
}

// DescribeCustomKeyStores lists custom key stores and their connection.
func (c *Client) DescribeCustomKeyStores(ctx context.Context, in *api.DescribeCustomKeyStoresInput) (*api.DescribeCustomKeyStoresOutput, error) {
	return call1[api.DescribeCustomKeyStoresOutput](c, ctx, api.OpDescribeCustomKeyStores, in)
}

// UpdateCustomKeyStore renames a store or changes its token.
func (c *Client) UpdateCustomKeyStore(ctx context.Context, in *api.UpdateCustomKeyStoreInput) (*api.Empty, error) {
	return call1[api.Empty](c, ctx, api.OpUpdateCustomKeyStore, in)
}

// ConnectCustomKeyStore connects a store to its token.
func (c *Client) ConnectCustomKeyStore(ctx context.Context, in *api.CustomKeyStoreIDInput) (*api.Empty, error) {
	return call1[api.Empty](c, ctx, api.OpConnectCustomKeyStore, in)
}

// DisconnectCustomKeyStore disconnects a store.
func (c *Client) DisconnectCustomKeyStore(ctx context.Context, in *api.CustomKeyStoreIDInput) (*api.Empty, error) {
	return call1[api.Empty](c, ctx, api.OpDisconnectCustomKeyStore, in)
}

// DeleteCustomKeyStore removes a disconnected store without keys.
func (c *Client) DeleteCustomKeyStore(ctx context.Context, in *api.CustomKeyStoreIDInput) (*api.Empty, error) {
	return call1[api.Empty](c, ctx, api.OpDeleteCustomKeyStore, in)
}
