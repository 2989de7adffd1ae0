package main

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"kmsd/wire/api"
)

// Importing key material, with the aws CLI's commands and flags.

type getParametersForImportCmd struct {
	KeyID             string `name:"key-id" required:"" help:"An EXTERNAL key's id or ARN."`
	WrappingAlgorithm string `required:"" help:"RSAES_OAEP_SHA_1, RSAES_OAEP_SHA_256, RSA_AES_KEY_WRAP_SHA_1 or RSA_AES_KEY_WRAP_SHA_256."`
	WrappingKeySpec   string `required:"" help:"RSA_2048, RSA_3072 or RSA_4096."`
}

func (c *getParametersForImportCmd) run(e *env) error {
	return call(e, api.OpGetParametersForImport, &api.GetParametersForImportInput{KeyId: c.KeyID,
		WrappingAlgorithm: c.WrappingAlgorithm, WrappingKeySpec: c.WrappingKeySpec})
}

type importKeyMaterialCmd struct {
	KeyID                string `name:"key-id" required:""`
	ImportToken          string `required:"" help:"fileb://PATH or base64: GetParametersForImport's token."`
	EncryptedKeyMaterial string `required:"" help:"fileb://PATH or base64: the 32-byte key wrapped under the parameters' public key."`
	ValidTo              string `help:"When the material expires (ISO 8601, or seconds since the epoch); with KEY_MATERIAL_EXPIRES."`
	ExpirationModel      string `help:"KEY_MATERIAL_EXPIRES (the default) or KEY_MATERIAL_DOES_NOT_EXPIRE."`
}

func (c *importKeyMaterialCmd) run(e *env) error {
	token, err := readBlob("import-token", c.ImportToken)
	if err != nil {
		return usageError{err}
	}
	wrapped, err := readBlob("encrypted-key-material", c.EncryptedKeyMaterial)
	if err != nil {
		return usageError{err}
	}
	in := &api.ImportKeyMaterialInput{KeyId: c.KeyID, ImportToken: token, EncryptedKeyMaterial: wrapped, ExpirationModel: c.ExpirationModel}
	if c.ValidTo != "" {
		t, err := parseTimestamp(c.ValidTo)
		if err != nil {
			return usageError{fmt.Errorf("--valid-to: %w", err)}
		}
		in.ValidTo = &t
	}
	return call(e, api.OpImportKeyMaterial, in)
}

type deleteImportedKeyMaterialCmd struct {
	KeyID string `name:"key-id" required:""`
}

func (c *deleteImportedKeyMaterialCmd) run(e *env) error {
	return call(e, api.OpDeleteImportedKeyMaterial, &api.DeleteImportedKeyMaterialInput{KeyId: c.KeyID})
}

// parseTimestamp reads a timestamp as the aws CLI takes one: ISO 8601
// (with or without a time and zone; UTC if none) or seconds since the
// epoch.
func parseTimestamp(s string) (time.Time, error) {
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		sec, frac := math.Modf(f)
		return time.Unix(int64(sec), int64(frac*1e9)).UTC(), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not an ISO 8601 time (2026-12-31T00:00:00Z) or seconds since the epoch", s)
}
