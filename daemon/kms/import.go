package kms

import (
	"context"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"kmsd/keystore"
	"kmsd/keystore/keyspec"
	"kmsd/keystore/kwp"
	"kmsd/wire/api"
)

// Import of key material, as AWS does it. GetParametersForImport makes a
// fresh RSA key pair per call and returns its public half with an import
// token: the private half, the key, the algorithm and the token's expiry,
// sealed (AES-256-GCM) under a key derived from kmsd's own "import" key, so
// that the token is useless to anyone but this kmsd, and nothing of it is
// stored. ImportKeyMaterial opens the token, unwraps the material with its
// private key, and seals the material as version 1 of the key; a token is
// taken once (its id is kept until it expires). Only the same material may
// be imported again: kmsd keeps an HMAC commitment to it, never the
// material unsealed. At ValidTo (Tick, and Open) or on
// DeleteImportedKeyMaterial the version is removed and the key is
// PendingImport until the same material comes back.

const (
	importTokenTTL    = 24 * time.Hour
	maxImportValidity = 365 * 24 * time.Hour
	importTokenV1     = 1
	metaUsedTokens    = "import-tokens-used" // token id -> its expiry (unix seconds), JSON
	importMaterialLen = 32
)

// importToken is what an import token holds, sealed.
type importToken struct {
	ID        string    `json:"id"`
	KeyID     string    `json:"key"`
	Algorithm string    `json:"alg"`
	Spec      string    `json:"spec"`
	Private   []byte    `json:"priv"` // PKCS#8
	ValidTo   time.Time `json:"valid_to"`
}

var wrappingBits = map[string]int{api.WrapRSA2048: 2048, api.WrapRSA3072: 3072, api.WrapRSA4096: 4096}

var wrappingHash = map[string]crypto.Hash{
	api.WrapOAEPSHA1: crypto.SHA1, api.WrapOAEPSHA256: crypto.SHA256,
	api.WrapAESKeyWrapSHA1: crypto.SHA1, api.WrapAESKeyWrapSHA256: crypto.SHA256,
}

// tokenAEAD is the AEAD that seals import tokens.
func (s *Service) tokenAEAD() (cipher.AEAD, error) {
	k, err := s.DerivedKey("import", "import-token")
	if err != nil {
		return nil, err
	}
	defer clear(k)
	b, err := aes.NewCipher(k)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

var tokenAD = []byte("kmsd/v1/import-token")

// GetParametersForImport returns a wrapping key and an import token for key
// in.KeyId (origin EXTERNAL).
func (s *Service) GetParametersForImport(ctx context.Context, in *api.GetParametersForImportInput) (*api.GetParametersForImportOutput, error) {
	bits, ok := wrappingBits[in.WrappingKeySpec]
	if !ok {
		return nil, errorf(api.CodeValidation, "WrappingKeySpec must be RSA_2048, RSA_3072 or RSA_4096, not %q", in.WrappingKeySpec)
	}
	if _, ok := wrappingHash[in.WrappingAlgorithm]; !ok {
		return nil, errorf(api.CodeValidation, "WrappingAlgorithm must be RSAES_OAEP_SHA_1, RSAES_OAEP_SHA_256, RSA_AES_KEY_WRAP_SHA_1 or RSA_AES_KEY_WRAP_SHA_256, not %q", in.WrappingAlgorithm)
	}
	aead, err := s.tokenAEAD()
	if err != nil {
		return nil, err
	}
	var arn string
	var id keystore.KeyID
	err = s.view(ctx, api.OpGetParametersForImport, in.KeyId, false, nil, func(e *entry) error {
		if e.rec.Origin != api.OriginExternal {
			return errorf(api.CodeUnsupportedOperation, "%s origin is %s, which takes no imported material (create the key with Origin EXTERNAL)", e.arn, e.rec.Origin)
		}
		arn, id = e.arn, e.id
		return nil
	})
	if err != nil {
		return nil, err
	}
	priv, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		return nil, err
	}
	pub, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, err
	}
	var tid [16]byte
	rand.Read(tid[:])
	validTo := s.now().UTC().Add(importTokenTTL).Truncate(time.Millisecond)
	body, err := json.Marshal(importToken{ID: hex.EncodeToString(tid[:]), KeyID: id.String(), Algorithm: in.WrappingAlgorithm,
		Spec: in.WrappingKeySpec, Private: der, ValidTo: validTo})
	clear(der)
	if err != nil {
		return nil, err
	}
	defer clear(body)
	token := make([]byte, 1+aead.NonceSize(), 1+aead.NonceSize()+len(body)+aead.Overhead())
	token[0] = importTokenV1
	rand.Read(token[1:])
	token = aead.Seal(token, token[1:1+aead.NonceSize()], body, append(tokenAD, id[:]...))
	s.log.Info("import parameters issued", "key", id.String(), "algorithm", in.WrappingAlgorithm, "spec", in.WrappingKeySpec)
	return &api.GetParametersForImportOutput{KeyId: arn, ImportToken: token, PublicKey: pub, ParametersValidTo: validTo}, nil
}

// openToken opens an import token made for key id.
func (s *Service) openToken(aead cipher.AEAD, id keystore.KeyID, token []byte, now time.Time) (*importToken, error) {
	invalid := errorf(api.CodeInvalidImportToken, "the import token is not one kmsd issued for this key")
	n := aead.NonceSize()
	if len(token) < 1+n+aead.Overhead() || token[0] != importTokenV1 {
		return nil, invalid
	}
	body, err := aead.Open(nil, token[1:1+n], token[1+n:], append(tokenAD, id[:]...))
	if err != nil {
		return nil, invalid
	}
	defer clear(body)
	var t importToken
	if err := json.Unmarshal(body, &t); err != nil || t.KeyID != id.String() {
		return nil, invalid
	}
	if !now.Before(t.ValidTo) {
		clear(t.Private)
		return nil, errorf(api.CodeExpiredImportToken, "the import token expired at %s; get new parameters", t.ValidTo.Format(time.RFC3339))
	}
	return &t, nil
}

// unwrapMaterial decrypts the wrapped material with the token's key.
func unwrapMaterial(t *importToken, wrapped []byte) ([]byte, error) {
	bad := errorf(api.CodeInvalidCiphertext, "the encrypted key material does not decrypt with the import token's wrapping key and algorithm (%s)", t.Algorithm)
	k, err := x509.ParsePKCS8PrivateKey(t.Private)
	if err != nil {
		return nil, err
	}
	priv, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, errors.New("import token holds no RSA key")
	}
	h := wrappingHash[t.Algorithm]
	var hf = sha256.New
	if h == crypto.SHA1 {
		hf = sha1.New
	}
	switch t.Algorithm {
	case api.WrapOAEPSHA1, api.WrapOAEPSHA256:
		m, err := rsa.DecryptOAEP(hf(), nil, priv, wrapped, nil)
		if err != nil {
			return nil, bad
		}
		return m, nil
	default: // RSA_AES_KEY_WRAP: an RSA-OAEP-wrapped AES key, then the material under it (RFC 5649)
		if len(wrapped) <= priv.Size() {
			return nil, bad
		}
		aesKey, err := rsa.DecryptOAEP(hf(), nil, priv, wrapped[:priv.Size()], nil)
		if err != nil {
			return nil, bad
		}
		defer clear(aesKey)
		m, err := kwp.Unwrap(aesKey, wrapped[priv.Size():])
		if err != nil {
			return nil, bad
		}
		return m, nil
	}
}

// commitment binds material to key id without revealing it.
func commitment(ck []byte, id keystore.KeyID, material []byte) []byte {
	m := hmac.New(sha256.New, ck)
	m.Write([]byte("kmsd/v1/import-commitment"))
	m.Write(id[:])
	m.Write(material)
	return m.Sum(nil)
}

// ImportKeyMaterial imports material into an EXTERNAL key.
func (s *Service) ImportKeyMaterial(ctx context.Context, in *api.ImportKeyMaterialInput) (*api.ImportKeyMaterialOutput, error) {
	now := s.now().UTC()
	model := in.ExpirationModel
	if model == "" {
		model = api.ExpirationExpires
	}
	switch {
	case in.ImportType == "NEW_KEY_MATERIAL":
		return nil, errorf(api.CodeUnsupportedOperation, "kmsd keys with imported material have one version: ImportType NEW_KEY_MATERIAL (rotation by import) is not supported")
	case in.ImportType != "" && in.ImportType != "EXISTING_KEY_MATERIAL":
		return nil, errorf(api.CodeValidation, "ImportType must be EXISTING_KEY_MATERIAL or NEW_KEY_MATERIAL, not %q", in.ImportType)
	case len(in.ImportToken) == 0 || len(in.EncryptedKeyMaterial) == 0:
		return nil, errorf(api.CodeValidation, "ImportToken and EncryptedKeyMaterial are required")
	case model != api.ExpirationExpires && model != api.ExpirationDoesNotExpire:
		return nil, errorf(api.CodeValidation, "ExpirationModel must be KEY_MATERIAL_EXPIRES or KEY_MATERIAL_DOES_NOT_EXPIRE, not %q", model)
	case model == api.ExpirationExpires && in.ValidTo == nil:
		return nil, errorf(api.CodeValidation, "ValidTo is required with KEY_MATERIAL_EXPIRES")
	case model == api.ExpirationDoesNotExpire && in.ValidTo != nil:
		return nil, errorf(api.CodeValidation, "ValidTo is not allowed with KEY_MATERIAL_DOES_NOT_EXPIRE")
	case in.ValidTo != nil && (!in.ValidTo.After(now) || in.ValidTo.Sub(now) > maxImportValidity):
		return nil, errorf(api.CodeValidation, "ValidTo must be in the next 365 days")
	}
	aead, err := s.tokenAEAD()
	if err != nil {
		return nil, err
	}
	ck, err := s.DerivedKey("import", "material-cmt")
	if err != nil {
		return nil, err
	}
	defer clear(ck)
	var matID string
	e, err := s.updateBatch(ctx, api.OpImportKeyMaterial, in.KeyId, func(e *entry, r *keystore.KeyRecord, b *keystore.Batch) (bool, error) {
		if r.Origin != api.OriginExternal {
			return false, errorf(api.CodeUnsupportedOperation, "%s origin is %s, which takes no imported material", e.arn, r.Origin)
		}
		t, err := s.openToken(aead, r.KeyID, in.ImportToken, now)
		if err != nil {
			return false, err
		}
		defer clear(t.Private)
		used, err := s.usedTokens(now) // under writeMu: a token is taken once
		if err != nil {
			return false, err
		}
		if _, ok := used[t.ID]; ok {
			return false, errorf(api.CodeInvalidImportToken, "the import token was used already: get new parameters")
		}
		material, err := unwrapMaterial(t, in.EncryptedKeyMaterial)
		if err != nil {
			return false, err
		}
		defer clear(material)
		if err := checkImported(r, material); err != nil {
			return false, err
		}
		c := commitment(ck, r.KeyID, material)
		if r.Import != nil && !hmac.Equal(c, r.Import.Commitment) {
			return false, errorf(api.CodeIncorrectKeyMaterial, "%s takes only the key material imported into it before", e.arn)
		}
		if len(r.Versions) == 0 {
			seal := s.root().Seal
			if !isSymmetric(r) {
				seal = s.root().SealKey
			}
			sealed, err := seal(r.KeyID, 1, material)
			if err != nil {
				return false, err
			}
			r.Versions = []keystore.Version{{Version: 1, Sealed: sealed, CreationDate: now}}
		}
		r.Import = &keystore.ImportState{Commitment: c, ExpirationModel: model}
		if in.ValidTo != nil {
			v := in.ValidTo.UTC().Truncate(time.Millisecond)
			r.Import.ValidTo = &v
		}
		if r.KeyState == api.KeyStatePendingImport {
			r.KeyState = api.KeyStateEnabled
		}
		used[t.ID] = t.ValidTo.Unix()
		v, err := json.Marshal(used)
		if err != nil {
			return false, err
		}
		b.PutMeta(metaUsedTokens, v)
		matID = keyMaterialID(r.KeyID, 1)
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	s.log.Info("key material imported", "key", e.id.String(), "expiration_model", model)
	return &api.ImportKeyMaterialOutput{KeyId: e.arn, KeyMaterialId: matID}, nil
}

// usedTokens reads the ids of import tokens taken and not yet expired.
// The caller holds writeMu, so that no other import takes the same token
// between this read and its write.
func (s *Service) usedTokens(now time.Time) (map[string]int64, error) {
	v, err := keystore.GetMeta(s.store, metaUsedTokens)
	if err != nil {
		return nil, err
	}
	used := map[string]int64{}
	if v != nil {
		if err := json.Unmarshal(v, &used); err != nil {
			return nil, err
		}
	}
	for id, exp := range used {
		if exp < now.Unix() {
			delete(used, id)
		}
	}
	return used, nil
}

// DeleteImportedKeyMaterial removes a key's imported material: the key is
// PendingImport until the same material is imported again.
func (s *Service) DeleteImportedKeyMaterial(ctx context.Context, in *api.DeleteImportedKeyMaterialInput) (*api.DeleteImportedKeyMaterialOutput, error) {
	e, err := s.update(ctx, api.OpDeleteImportedKeyMaterial, in.KeyId, func(e *entry, r *keystore.KeyRecord) (bool, error) {
		if r.Origin != api.OriginExternal {
			return false, errorf(api.CodeUnsupportedOperation, "%s origin is %s, which has no imported material", e.arn, r.Origin)
		}
		return removeMaterial(r), nil
	})
	if err != nil {
		return nil, err
	}
	s.log.Info("imported key material deleted", "key", e.id.String())
	return &api.DeleteImportedKeyMaterialOutput{KeyId: e.arn, KeyMaterialId: keyMaterialID(e.id, 1)}, nil
}

// removeMaterial drops an EXTERNAL key's material version; it reports
// whether there was one.
func removeMaterial(r *keystore.KeyRecord) bool {
	if len(r.Versions) == 0 {
		return false
	}
	r.Versions = nil
	if r.KeyState == api.KeyStateEnabled || r.KeyState == api.KeyStateDisabled {
		r.KeyState = api.KeyStatePendingImport
	}
	return true
}

// expireImports removes the material of keys whose ValidTo has come (Tick,
// and Open: a kmsd that was down at ValidTo does it at start). The caller
// holds writeMu.
func (s *Service) expireImports(now time.Time) error {
	s.mu.RLock()
	var due []*entry
	for _, e := range s.keys {
		e.mu.RLock()
		if r := e.rec; r.Import != nil && r.Import.ValidTo != nil && len(r.Versions) > 0 && !now.Before(*r.Import.ValidTo) {
			due = append(due, e)
		}
		e.mu.RUnlock()
	}
	s.mu.RUnlock()
	var first error
	for _, e := range due {
		e.mu.RLock()
		r := e.rec.Clone()
		e.mu.RUnlock()
		if !removeMaterial(r) {
			continue
		}
		var b keystore.Batch
		b.PutKey(r)
		if err := s.write("ExpireImportedKeyMaterial", &b); err != nil {
			first = cmpOr(first, err)
			continue
		}
		e.mu.Lock()
		e.wipe()
		e.install(r)
		e.mu.Unlock()
		s.log.Info("imported key material expired and deleted", "key", e.id.String(), "valid_to", r.Import.ValidTo.Format(time.RFC3339))
		s.event("DeleteExpiredKeyMaterial", e.id.String(), "imported key material expired at "+r.Import.ValidTo.Format(time.RFC3339))
	}
	return first
}

func cmpOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// checkImported checks that imported material is a key of the record's
// spec: 32 bytes for a symmetric key; for the others, what package keyspec
// parses (PKCS#8 DER for RSA and elliptic-curve keys, as AWS takes them;
// the PKCS#8 seed form for ML-DSA; 28 to 128 bytes for HMAC keys, by spec).
func checkImported(r *keystore.KeyRecord, material []byte) error {
	if isSymmetric(r) {
		if len(material) != importMaterialLen {
			return errorf(api.CodeIncorrectKeyMaterial, "the key material is %d bytes; a symmetric key takes 32 (256 bits)", len(material))
		}
		return nil
	}
	k, err := keyspec.Parse(keyspec.Lookup(r.KeySpec), material)
	if err != nil {
		return errorf(api.CodeIncorrectKeyMaterial, "the key material is not a %s key: %s", r.KeySpec, strings.TrimPrefix(err.Error(), keyspec.ErrMaterial.Error()+": "))
	}
	k.Wipe()
	return nil
}
