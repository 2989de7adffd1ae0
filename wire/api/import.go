package api

import "time"

// Import of key material (AWS's BYOK): GetParametersForImport gives a
// fresh RSA wrapping key and an import token; ImportKeyMaterial takes the
// material wrapped under that key with the token; DeleteImportedKeyMaterial
// removes it. Only keys made with Origin EXTERNAL take imported material.

// Wrapping algorithms and specs, and expiration models, as AWS names them.
const (
	WrapOAEPSHA1         = "RSAES_OAEP_SHA_1"
	WrapOAEPSHA256       = "RSAES_OAEP_SHA_256"
	WrapAESKeyWrapSHA1   = "RSA_AES_KEY_WRAP_SHA_1"
	WrapAESKeyWrapSHA256 = "RSA_AES_KEY_WRAP_SHA_256"

	WrapRSA2048 = "RSA_2048"
	WrapRSA3072 = "RSA_3072"
	WrapRSA4096 = "RSA_4096"

	ExpirationExpires       = "KEY_MATERIAL_EXPIRES"
	ExpirationDoesNotExpire = "KEY_MATERIAL_DOES_NOT_EXPIRE"
)

// GetParametersForImportInput is the request of GetParametersForImport.
type GetParametersForImportInput struct {
	KeyId             string `json:",omitzero"` // an EXTERNAL key's id or ARN
	WrappingAlgorithm string `json:",omitzero"` // RSAES_OAEP_SHA_1, RSAES_OAEP_SHA_256, RSA_AES_KEY_WRAP_SHA_1 or RSA_AES_KEY_WRAP_SHA_256
	WrappingKeySpec   string `json:",omitzero"` // RSA_2048, RSA_3072 or RSA_4096
}

// GetParametersForImportOutput is the wrapping key's public half (DER,
// SubjectPublicKeyInfo) and the token that holds its private half, sealed
// by kmsd, valid until ParametersValidTo.
type GetParametersForImportOutput struct {
	KeyId             string    `json:",omitzero"`
	ImportToken       []byte    `json:",omitzero"`
	PublicKey         []byte    `json:",omitzero"`
	ParametersValidTo time.Time `json:",omitzero"`
}

// ImportKeyMaterialInput is the request of ImportKeyMaterial.
type ImportKeyMaterialInput struct {
	KeyId                string     `json:",omitzero"` // an EXTERNAL key's id or ARN
	ImportToken          []byte     `json:",omitzero"`
	EncryptedKeyMaterial []byte     `json:",omitzero"`
	ValidTo              *time.Time `json:",omitzero"`
	ExpirationModel      string     `json:",omitzero"` // KEY_MATERIAL_EXPIRES (the default) or KEY_MATERIAL_DOES_NOT_EXPIRE
	// ImportType is AWS's newer choice between re-importing the key's
	// material (EXISTING_KEY_MATERIAL, what kmsd does) and importing new
	// material for rotation (NEW_KEY_MATERIAL, which kmsd refuses).
	ImportType string `json:",omitzero"`
}

// ImportKeyMaterialOutput names the key and its material.
type ImportKeyMaterialOutput struct {
	KeyId         string `json:",omitzero"`
	KeyMaterialId string `json:",omitzero"`
}

// DeleteImportedKeyMaterialInput is the request of DeleteImportedKeyMaterial.
type DeleteImportedKeyMaterialInput struct {
	KeyId string `json:",omitzero"` // an EXTERNAL key's id or ARN
}

// DeleteImportedKeyMaterialOutput names the key and the material deleted.
type DeleteImportedKeyMaterialOutput struct {
	KeyId         string `json:",omitzero"`
	KeyMaterialId string `json:",omitzero"`
}
