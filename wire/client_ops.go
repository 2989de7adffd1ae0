package wire

import "context"

// One method per operation. Errors are *Error (with an AWS exception name
// as Code) for answers from kmsd, and wrap ErrConnection when kmsd could
// not be reached.

// Status reports the daemon's version, suite, CPU features, key count, uptime and queue depth.
func (c *Client) Status(ctx context.Context, in *StatusInput) (*StatusOutput, error) {
	return call1[StatusOutput](c, ctx, OpStatus, in)
}

// CreateKey creates a symmetric key.
func (c *Client) CreateKey(ctx context.Context, in *CreateKeyInput) (*KeyMetadataOutput, error) {
	return call1[KeyMetadataOutput](c, ctx, OpCreateKey, in)
}

// DescribeKey returns a key's metadata; aliases resolve.
func (c *Client) DescribeKey(ctx context.Context, in *DescribeKeyInput) (*KeyMetadataOutput, error) {
	return call1[KeyMetadataOutput](c, ctx, OpDescribeKey, in)
}

// ListKeys lists keys, a page at a time.
func (c *Client) ListKeys(ctx context.Context, in *ListKeysInput) (*ListKeysOutput, error) {
	return call1[ListKeysOutput](c, ctx, OpListKeys, in)
}

// UpdateKeyDescription replaces a key's description.
func (c *Client) UpdateKeyDescription(ctx context.Context, in *UpdateKeyDescriptionInput) (*Empty, error) {
	return call1[Empty](c, ctx, OpUpdateKeyDescription, in)
}

// EnableKey makes a Disabled key Enabled.
func (c *Client) EnableKey(ctx context.Context, in *KeyIDInput) (*Empty, error) {
	return call1[Empty](c, ctx, OpEnableKey, in)
}

// DisableKey makes a key Disabled.
func (c *Client) DisableKey(ctx context.Context, in *KeyIDInput) (*Empty, error) {
	return call1[Empty](c, ctx, OpDisableKey, in)
}

// ScheduleKeyDeletion schedules a key's deletion after 7 to 30 days.
func (c *Client) ScheduleKeyDeletion(ctx context.Context, in *ScheduleKeyDeletionInput) (*ScheduleKeyDeletionOutput, error) {
	return call1[ScheduleKeyDeletionOutput](c, ctx, OpScheduleKeyDeletion, in)
}

// CancelKeyDeletion cancels a scheduled deletion; the key comes back Disabled.
func (c *Client) CancelKeyDeletion(ctx context.Context, in *KeyIDInput) (*KeyIDOutput, error) {
	return call1[KeyIDOutput](c, ctx, OpCancelKeyDeletion, in)
}

// CreateAlias creates an alias for a key.
func (c *Client) CreateAlias(ctx context.Context, in *AliasInput) (*Empty, error) {
	return call1[Empty](c, ctx, OpCreateAlias, in)
}

// UpdateAlias points an alias at another key.
func (c *Client) UpdateAlias(ctx context.Context, in *AliasInput) (*Empty, error) {
	return call1[Empty](c, ctx, OpUpdateAlias, in)
}

// DeleteAlias deletes an alias.
func (c *Client) DeleteAlias(ctx context.Context, in *DeleteAliasInput) (*Empty, error) {
	return call1[Empty](c, ctx, OpDeleteAlias, in)
}

// ListAliases lists aliases, optionally of one key.
func (c *Client) ListAliases(ctx context.Context, in *ListAliasesInput) (*ListAliasesOutput, error) {
	return call1[ListAliasesOutput](c, ctx, OpListAliases, in)
}

// TagResource adds or replaces tags on a key.
func (c *Client) TagResource(ctx context.Context, in *TagResourceInput) (*Empty, error) {
	return call1[Empty](c, ctx, OpTagResource, in)
}

// UntagResource removes tags from a key.
func (c *Client) UntagResource(ctx context.Context, in *UntagResourceInput) (*Empty, error) {
	return call1[Empty](c, ctx, OpUntagResource, in)
}

// ListResourceTags lists a key's tags.
func (c *Client) ListResourceTags(ctx context.Context, in *ListResourceTagsInput) (*ListResourceTagsOutput, error) {
	return call1[ListResourceTagsOutput](c, ctx, OpListResourceTags, in)
}

// Encrypt encrypts 1 to 4096 bytes under a key.
func (c *Client) Encrypt(ctx context.Context, in *EncryptInput) (*EncryptOutput, error) {
	return call1[EncryptOutput](c, ctx, OpEncrypt, in)
}

// Decrypt decrypts a ciphertext blob.
func (c *Client) Decrypt(ctx context.Context, in *DecryptInput) (*DecryptOutput, error) {
	return call1[DecryptOutput](c, ctx, OpDecrypt, in)
}

// ReEncrypt decrypts and re-encrypts a blob inside kmsd.
func (c *Client) ReEncrypt(ctx context.Context, in *ReEncryptInput) (*ReEncryptOutput, error) {
	return call1[ReEncryptOutput](c, ctx, OpReEncrypt, in)
}

// GenerateDataKey returns a new data key, in plaintext and encrypted.
func (c *Client) GenerateDataKey(ctx context.Context, in *GenerateDataKeyInput) (*GenerateDataKeyOutput, error) {
	return call1[GenerateDataKeyOutput](c, ctx, OpGenerateDataKey, in)
}

// GenerateDataKeyWithoutPlaintext returns a new data key, encrypted only.
func (c *Client) GenerateDataKeyWithoutPlaintext(ctx context.Context, in *GenerateDataKeyInput) (*GenerateDataKeyOutput, error) {
	return call1[GenerateDataKeyOutput](c, ctx, OpGenerateDataKeyWithoutPlaintext, in)
}

// GenerateRandom returns 1 to 1024 random bytes.
func (c *Client) GenerateRandom(ctx context.Context, in *GenerateRandomInput) (*GenerateRandomOutput, error) {
	return call1[GenerateRandomOutput](c, ctx, OpGenerateRandom, in)
}

// EnableKeyRotation turns on automatic rotation.
func (c *Client) EnableKeyRotation(ctx context.Context, in *EnableKeyRotationInput) (*Empty, error) {
	return call1[Empty](c, ctx, OpEnableKeyRotation, in)
}

// DisableKeyRotation turns off automatic rotation.
func (c *Client) DisableKeyRotation(ctx context.Context, in *KeyIDInput) (*Empty, error) {
	return call1[Empty](c, ctx, OpDisableKeyRotation, in)
}

// GetKeyRotationStatus reports a key's automatic rotation.
func (c *Client) GetKeyRotationStatus(ctx context.Context, in *KeyIDInput) (*GetKeyRotationStatusOutput, error) {
	return call1[GetKeyRotationStatusOutput](c, ctx, OpGetKeyRotationStatus, in)
}

// RotateKeyOnDemand adds a new version of a key's material now.
func (c *Client) RotateKeyOnDemand(ctx context.Context, in *KeyIDInput) (*KeyIDOutput, error) {
	return call1[KeyIDOutput](c, ctx, OpRotateKeyOnDemand, in)
}

// ListKeyRotations lists a key's rotations.
func (c *Client) ListKeyRotations(ctx context.Context, in *ListKeyRotationsInput) (*ListKeyRotationsOutput, error) {
	return call1[ListKeyRotationsOutput](c, ctx, OpListKeyRotations, in)
}

// PutKeyPolicy replaces a key's policy.
func (c *Client) PutKeyPolicy(ctx context.Context, in *PutKeyPolicyInput) (*Empty, error) {
	return call1[Empty](c, ctx, OpPutKeyPolicy, in)
}

// GetKeyPolicy returns a key's policy.
func (c *Client) GetKeyPolicy(ctx context.Context, in *GetKeyPolicyInput) (*GetKeyPolicyOutput, error) {
	return call1[GetKeyPolicyOutput](c, ctx, OpGetKeyPolicy, in)
}

// ListKeyPolicies lists a key's policy names (always default).
func (c *Client) ListKeyPolicies(ctx context.Context, in *ListKeyPoliciesInput) (*ListKeyPoliciesOutput, error) {
	return call1[ListKeyPoliciesOutput](c, ctx, OpListKeyPolicies, in)
}

// CreateGrant gives a principal some operations on a key.
func (c *Client) CreateGrant(ctx context.Context, in *CreateGrantInput) (*CreateGrantOutput, error) {
	return call1[CreateGrantOutput](c, ctx, OpCreateGrant, in)
}

// ListGrants lists a key's grants.
func (c *Client) ListGrants(ctx context.Context, in *ListGrantsInput) (*ListGrantsOutput, error) {
	return call1[ListGrantsOutput](c, ctx, OpListGrants, in)
}

// ListRetirableGrants lists the grants a principal may retire.
func (c *Client) ListRetirableGrants(ctx context.Context, in *ListRetirableGrantsInput) (*ListGrantsOutput, error) {
	return call1[ListGrantsOutput](c, ctx, OpListRetirableGrants, in)
}

// RetireGrant retires a grant (by its retiring principal or grantee).
func (c *Client) RetireGrant(ctx context.Context, in *RetireGrantInput) (*Empty, error) {
	return call1[Empty](c, ctx, OpRetireGrant, in)
}

// RevokeGrant revokes a grant (by a key administrator).
func (c *Client) RevokeGrant(ctx context.Context, in *RevokeGrantInput) (*Empty, error) {
	return call1[Empty](c, ctx, OpRevokeGrant, in)
}

// GetKeyLastUsage returns a key's last successful cryptographic use.
func (c *Client) GetKeyLastUsage(ctx context.Context, in *KeyIDInput) (*GetKeyLastUsageOutput, error) {
	return call1[GetKeyLastUsageOutput](c, ctx, OpGetKeyLastUsage, in)
}

// GetUsage counts requests by key and principal over a recent window.
func (c *Client) GetUsage(ctx context.Context, in *GetUsageInput) (*GetUsageOutput, error) {
	return call1[GetUsageOutput](c, ctx, OpGetUsage, in)
}

// VerifyAuditCheckpoints checks audit checkpoint MACs (root or the admin group).
func (c *Client) VerifyAuditCheckpoints(ctx context.Context, in *VerifyAuditCheckpointsInput) (*VerifyAuditCheckpointsOutput, error) {
	return call1[VerifyAuditCheckpointsOutput](c, ctx, OpVerifyAuditCheckpoints, in)
}
