package api

import "time"

// KeyMetadata describes a key, as DescribeKey returns it.
type KeyMetadata struct {
	AWSAccountId string    `json:",omitzero"`
	KeyId        string    `json:",omitzero"`
	Arn          string    `json:",omitzero"`
	CreationDate time.Time `json:",omitzero"`
	Enabled      bool
	Description  string     // always present, as AWS's (maybe "")
	KeyUsage     string     `json:",omitzero"`
	KeyState     string     `json:",omitzero"`
	DeletionDate *time.Time `json:",omitzero"`
	// ValidTo is when imported material expires (KEY_MATERIAL_EXPIRES).
	ValidTo *time.Time `json:",omitzero"`
	Origin  string     `json:",omitzero"`
	// ExpirationModel is set for keys whose material is imported.
	ExpirationModel string `json:",omitzero"`
	// CustomKeyStoreId and CloudHsmClusterId (the token's serial) are set
	// for keys kept in a custom key store.
	CustomKeyStoreId      string   `json:",omitzero"`
	CloudHsmClusterId     string   `json:",omitzero"`
	KeyManager            string   `json:",omitzero"`
	KeySpec               string   `json:",omitzero"`
	CustomerMasterKeySpec string   `json:",omitzero"`
	EncryptionAlgorithms  []string `json:",omitzero"`
	// SigningAlgorithms, MacAlgorithms and KeyAgreementAlgorithms are
	// those of keys of usage SIGN_VERIFY, GENERATE_VERIFY_MAC and
	// KEY_AGREEMENT.
	SigningAlgorithms      []string `json:",omitzero"`
	MacAlgorithms          []string `json:",omitzero"`
	KeyAgreementAlgorithms []string `json:",omitzero"`
	MultiRegion            bool
	// PendingDeletionWindowInDays is set while the key is pending deletion.
	PendingDeletionWindowInDays *int32 `json:",omitzero"`
	CurrentKeyMaterialId        string `json:",omitzero"`
}

// CreateKeyInput is the request of CreateKey.
type CreateKeyInput struct {
	Description string `json:",omitzero"` // a description of the key
	KeyUsage    string `json:",omitzero"` // ENCRYPT_DECRYPT (default), SIGN_VERIFY, GENERATE_VERIFY_MAC or KEY_AGREEMENT
	KeySpec     string `json:",omitzero"` // SYMMETRIC_DEFAULT (default), RSA_*, ECC_*, HMAC_* or ML_DSA_*
	Origin      string `json:",omitzero"` // AWS_KMS (default) or EXTERNAL
	MultiRegion bool   // not supported on one host
	Tags        []Tag  `json:",omitzero" wire:"max=256"`
	// Policy is the key policy (JSON); empty gives the default policy.
	Policy                         string `json:",omitzero"`
	BypassPolicyLockoutSafetyCheck bool   `json:",omitzero"` // accept a policy that will not let you change it later
	// CustomKeyStoreId keeps the key in that store's token (Origin
	// AWS_CLOUDHSM).
	CustomKeyStoreId string `json:",omitzero"`
}

// KeyIDInput is the request of every operation that takes only a key.
type KeyIDInput struct {
	KeyId string `json:",omitzero"` // key id or key ARN
}

// DescribeKeyInput is the request of DescribeKey.
type DescribeKeyInput struct {
	KeyId       string   `json:",omitzero"`               // key id, key ARN, alias name or alias ARN
	GrantTokens []string `json:",omitzero" wire:"max=64"` // grant tokens that allow the request
}

// KeyMetadataOutput is the response of CreateKey and DescribeKey.
type KeyMetadataOutput struct {
	KeyMetadata KeyMetadata `json:",omitzero"`
}

// ListKeysInput is the request of ListKeys.
type ListKeysInput struct {
	Limit  *int32 `json:",omitzero"` // 1..1000, default 100
	Marker string `json:",omitzero"`
}

// KeyListEntry is one key in ListKeys.
type KeyListEntry struct {
	KeyId  string `json:",omitzero"`
	KeyArn string `json:",omitzero"`
}

// ListKeysOutput is the response of ListKeys.
type ListKeysOutput struct {
	Keys       []KeyListEntry `json:",omitzero"`
	NextMarker string         `json:",omitzero"`
	Truncated  bool
}

// UpdateKeyDescriptionInput is the request of UpdateKeyDescription.
type UpdateKeyDescriptionInput struct {
	KeyId       string `json:",omitzero"` // key id or key ARN
	Description string `json:",omitzero"` // the new description
}

// ScheduleKeyDeletionInput is the request of ScheduleKeyDeletion.
type ScheduleKeyDeletionInput struct {
	KeyId               string `json:",omitzero"` // key id or key ARN
	PendingWindowInDays *int32 `json:",omitzero"` // 7..30, default 30
}

// ScheduleKeyDeletionOutput is the response of ScheduleKeyDeletion.
type ScheduleKeyDeletionOutput struct {
	KeyId               string    `json:",omitzero"`
	DeletionDate        time.Time `json:",omitzero"`
	KeyState            string    `json:",omitzero"`
	PendingWindowInDays *int32    `json:",omitzero"`
}

// KeyIDOutput is the response of operations that return only the key.
type KeyIDOutput struct {
	KeyId string `json:",omitzero"`
}
