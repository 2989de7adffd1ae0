package api

// The operations of keys that are not symmetric encryption keys: signing
// (RSA, elliptic-curve and ML-DSA keys of usage SIGN_VERIFY), MACs (HMAC
// keys), key agreement (NIST-curve keys of usage KEY_AGREEMENT) and data
// key pairs, as AWS KMS names their fields.

// SignInput is the request of Sign.
type SignInput struct {
	KeyId            string   `json:",omitzero"`               // key id, key ARN, alias name or alias ARN
	Message          []byte   `json:",omitzero"`               // 1..4096 bytes: the message (RAW) or its digest (DIGEST)
	MessageType      string   `json:",omitzero"`               // RAW (default), DIGEST or EXTERNAL_MU
	SigningAlgorithm string   `json:",omitzero"`               // one of the key's SigningAlgorithms
	GrantTokens      []string `json:",omitzero" wire:"max=64"` // grant tokens that allow the request
	DryRun           bool     `json:",omitzero"`               // authorize and check, sign nothing (DryRunOperationException)
}

// SignOutput is the response of Sign.
type SignOutput struct {
	KeyId            string `json:",omitzero"`
	Signature        []byte `json:",omitzero" wire:"fill"`
	SigningAlgorithm string `json:",omitzero"`
}

// VerifyInput is the request of Verify.
type VerifyInput struct {
	KeyId            string   `json:",omitzero"`               // key id, key ARN, alias name or alias ARN
	Message          []byte   `json:",omitzero"`               // 1..4096 bytes
	MessageType      string   `json:",omitzero"`               // RAW (default), DIGEST or EXTERNAL_MU
	Signature        []byte   `json:",omitzero"`               // 1..6144 bytes
	SigningAlgorithm string   `json:",omitzero"`               // one of the key's SigningAlgorithms
	GrantTokens      []string `json:",omitzero" wire:"max=64"` // grant tokens that allow the request
	DryRun           bool     `json:",omitzero"`               // authorize and check, do nothing (DryRunOperationException)
}

// VerifyOutput is the response of Verify: a signature that does not
// verify is KMSInvalidSignatureException, never SignatureValid false.
type VerifyOutput struct {
	KeyId            string `json:",omitzero"`
	SignatureValid   bool
	SigningAlgorithm string `json:",omitzero"`
}

// GetPublicKeyInput is the request of GetPublicKey.
type GetPublicKeyInput struct {
	KeyId       string   `json:",omitzero"`               // key id, key ARN, alias name or alias ARN
	GrantTokens []string `json:",omitzero" wire:"max=64"` // grant tokens that allow the request
}

// GetPublicKeyOutput is the response of GetPublicKey.
type GetPublicKeyOutput struct {
	KeyId                  string   `json:",omitzero"`
	PublicKey              []byte   `json:",omitzero"` // DER SubjectPublicKeyInfo
	CustomerMasterKeySpec  string   `json:",omitzero"`
	KeySpec                string   `json:",omitzero"`
	KeyUsage               string   `json:",omitzero"`
	EncryptionAlgorithms   []string `json:",omitzero"`
	SigningAlgorithms      []string `json:",omitzero"`
	KeyAgreementAlgorithms []string `json:",omitzero"`
}

// GenerateMacInput is the request of GenerateMac.
type GenerateMacInput struct {
	KeyId        string   `json:",omitzero"`               // key id, key ARN, alias name or alias ARN
	Message      []byte   `json:",omitzero"`               // 1..4096 bytes
	MacAlgorithm string   `json:",omitzero"`               // the key's: HMAC_SHA_224, _256, _384 or _512
	GrantTokens  []string `json:",omitzero" wire:"max=64"` // grant tokens that allow the request
	DryRun       bool     `json:",omitzero"`               // authorize and check, do nothing (DryRunOperationException)
}

// GenerateMacOutput is the response of GenerateMac.
type GenerateMacOutput struct {
	Mac          []byte `json:",omitzero" wire:"fill"`
	MacAlgorithm string `json:",omitzero"`
	KeyId        string `json:",omitzero"`
}

// VerifyMacInput is the request of VerifyMac.
type VerifyMacInput struct {
	KeyId        string   `json:",omitzero"` // key id, key ARN, alias name or alias ARN
	Message      []byte   `json:",omitzero"`
	MacAlgorithm string   `json:",omitzero"`               // the key's: HMAC_SHA_224, _256, _384 or _512
	Mac          []byte   `json:",omitzero"`               // 1..6144 bytes
	GrantTokens  []string `json:",omitzero" wire:"max=64"` // grant tokens that allow the request
	DryRun       bool     `json:",omitzero"`               // authorize and check, do nothing (DryRunOperationException)
}

// VerifyMacOutput is the response of VerifyMac: a MAC that does not
// verify is KMSInvalidMacException.
type VerifyMacOutput struct {
	KeyId        string `json:",omitzero"`
	MacValid     bool
	MacAlgorithm string `json:",omitzero"`
}

// DeriveSharedSecretInput is the request of DeriveSharedSecret.
type DeriveSharedSecretInput struct {
	KeyId                 string   `json:",omitzero"`               // key id, key ARN, alias name or alias ARN
	KeyAgreementAlgorithm string   `json:",omitzero"`               // ECDH
	PublicKey             []byte   `json:",omitzero"`               // the peer's, DER SubjectPublicKeyInfo, 1..8192 bytes
	GrantTokens           []string `json:",omitzero" wire:"max=64"` // grant tokens that allow the request
	DryRun                bool     `json:",omitzero"`               // authorize and check, do nothing (DryRunOperationException)
}

// DeriveSharedSecretOutput is the response of DeriveSharedSecret.
type DeriveSharedSecretOutput struct {
	KeyId                 string `json:",omitzero"`
	SharedSecret          []byte `json:",omitzero"` // the raw ECDH secret: run a KDF over it
	KeyAgreementAlgorithm string `json:",omitzero"`
	KeyOrigin             string `json:",omitzero"`
}

// GenerateDataKeyPairInput is the request of GenerateDataKeyPair and
// GenerateDataKeyPairWithoutPlaintext.
type GenerateDataKeyPairInput struct {
	KeyId             string            `json:",omitzero"` // a symmetric encryption key
	KeyPairSpec       string            `json:",omitzero"` // RSA_*, ECC_NIST_*, ECC_SECG_P256K1
	EncryptionContext map[string]string `json:",omitzero" wire:"max=64"`
	GrantTokens       []string          `json:",omitzero" wire:"max=64"` // grant tokens that allow the request
	DryRun            bool              `json:",omitzero"`               // authorize and check, do nothing (DryRunOperationException)
}

// GenerateDataKeyPairOutput is the response of GenerateDataKeyPair;
// PrivateKeyPlaintext is nil for GenerateDataKeyPairWithoutPlaintext.
type GenerateDataKeyPairOutput struct {
	KeyId                    string `json:",omitzero"`
	KeyPairSpec              string `json:",omitzero"`
	PrivateKeyCiphertextBlob []byte `json:",omitzero"` // the PKCS#8 private key, encrypted under KeyId
	PrivateKeyPlaintext      []byte `json:",omitzero"` // PKCS#8 DER
	PublicKey                []byte `json:",omitzero"` // DER SubjectPublicKeyInfo
	KeyMaterialId            string `json:",omitzero"`
}
