package api

// EncryptInput is the request of Encrypt.
type EncryptInput struct {
	KeyId               string            `json:",omitzero"` // key id, key ARN, alias name or alias ARN
	Plaintext           []byte            `json:",omitzero"` // 1..4096 bytes
	EncryptionContext   map[string]string `json:",omitzero" wire:"max=64"`
	GrantTokens         []string          `json:",omitzero" wire:"max=64"` // grant tokens that allow the request
	EncryptionAlgorithm string            `json:",omitzero"`               // SYMMETRIC_DEFAULT (default), RSAES_OAEP_SHA_1 or _SHA_256 (RSA keys)
	DryRun              bool              `json:",omitzero"`               // authorize and check, do nothing (DryRunOperationException)
}

// EncryptOutput is the response of Encrypt.
type EncryptOutput struct {
	CiphertextBlob      []byte `json:",omitzero" wire:"fill"`
	KeyId               string `json:",omitzero"`
	EncryptionAlgorithm string `json:",omitzero"`
	// KeyMaterialId is kmsd's: AWS's EncryptResponse has none, so the
	// JSON forms (kmsctl, the AWS endpoint) leave it out.
	KeyMaterialId string `json:"-"`
}

// DecryptInput is the request of Decrypt.
type DecryptInput struct {
	CiphertextBlob      []byte            `json:",omitzero"` // 1..6144 bytes
	EncryptionContext   map[string]string `json:",omitzero" wire:"max=64"`
	GrantTokens         []string          `json:",omitzero" wire:"max=64"` // grant tokens that allow the request
	KeyId               string            `json:",omitzero"`               // optional; must match the blob's key (required for an RSA key)
	EncryptionAlgorithm string            `json:",omitzero"`               // SYMMETRIC_DEFAULT, or the RSAES_OAEP algorithm of an RSA ciphertext
	DryRun              bool              `json:",omitzero"`               // authorize and check, do nothing (DryRunOperationException)
}

// DecryptOutput is the response of Decrypt.
type DecryptOutput struct {
	KeyId               string `json:",omitzero"`
	Plaintext           []byte `json:",omitzero" wire:"fill"`
	EncryptionAlgorithm string `json:",omitzero"`
	KeyMaterialId       string `json:",omitzero"`
}

// ReEncryptInput is the request of ReEncrypt.
type ReEncryptInput struct {
	CiphertextBlob                 []byte            `json:",omitzero"`
	SourceEncryptionContext        map[string]string `json:",omitzero" wire:"max=64"`
	SourceKeyId                    string            `json:",omitzero"` // if given, the blob's key must be this one
	DestinationKeyId               string            `json:",omitzero"` // key id, key ARN, alias name or alias ARN
	DestinationEncryptionContext   map[string]string `json:",omitzero" wire:"max=64"`
	SourceEncryptionAlgorithm      string            `json:",omitzero"`               // SYMMETRIC_DEFAULT
	DestinationEncryptionAlgorithm string            `json:",omitzero"`               // SYMMETRIC_DEFAULT
	GrantTokens                    []string          `json:",omitzero" wire:"max=64"` // grant tokens that allow the request
	DryRun                         bool              `json:",omitzero"`               // authorize and check, do nothing (DryRunOperationException)
}

// ReEncryptOutput is the response of ReEncrypt.
type ReEncryptOutput struct {
	CiphertextBlob                 []byte `json:",omitzero" wire:"fill"`
	SourceKeyId                    string `json:",omitzero"`
	KeyId                          string `json:",omitzero"`
	SourceEncryptionAlgorithm      string `json:",omitzero"`
	DestinationEncryptionAlgorithm string `json:",omitzero"`
	SourceKeyMaterialId            string `json:",omitzero"`
	DestinationKeyMaterialId       string `json:",omitzero"`
}

// GenerateDataKeyInput is the request of GenerateDataKey and
// GenerateDataKeyWithoutPlaintext. Exactly one of KeySpec and NumberOfBytes
// must be set.
type GenerateDataKeyInput struct {
	KeyId             string            `json:",omitzero"` // key id, key ARN, alias name or alias ARN
	KeySpec           string            `json:",omitzero"` // AES_256 or AES_128
	NumberOfBytes     *int32            `json:",omitzero"` // 1..1024
	EncryptionContext map[string]string `json:",omitzero" wire:"max=64"`
	GrantTokens       []string          `json:",omitzero" wire:"max=64"` // grant tokens that allow the request
	DryRun            bool              `json:",omitzero"`               // authorize and check, do nothing (DryRunOperationException)
}

// GenerateDataKeyOutput is the response of GenerateDataKey; Plaintext is
// nil for GenerateDataKeyWithoutPlaintext.
type GenerateDataKeyOutput struct {
	CiphertextBlob []byte `json:",omitzero" wire:"fill"`
	Plaintext      []byte `json:",omitzero"`
	KeyId          string `json:",omitzero"`
	KeyMaterialId  string `json:",omitzero"`
}

// GenerateRandomInput is the request of GenerateRandom.
type GenerateRandomInput struct {
	NumberOfBytes *int32 `json:",omitzero"` // 1..1024
}

// GenerateRandomOutput is the response of GenerateRandom.
type GenerateRandomOutput struct {
	Plaintext []byte `json:",omitzero"`
}
