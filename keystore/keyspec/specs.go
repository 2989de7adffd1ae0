package keyspec

import (
	"crypto"
	"errors"
	"slices"
)

// Key usages, as AWS spells them.
const (
	UsageEncryptDecrypt = "ENCRYPT_DECRYPT"
	UsageSignVerify     = "SIGN_VERIFY"
	UsageMAC            = "GENERATE_VERIFY_MAC"
	UsageKeyAgreement   = "KEY_AGREEMENT"
)

// Message types of Sign and Verify.
const (
	MessageRaw    = "RAW"
	MessageDigest = "DIGEST"
	// MessageExternalMu is ML-DSA's μ computed by the caller (FIPS 204
	// "external mu"); kmsd's ML-DSA implementation does not expose it.
	MessageExternalMu = "EXTERNAL_MU"
)

// ECDH is the one key agreement algorithm.
const ECDH = "ECDH"

// Sentinel errors; the key service maps each to an AWS exception.
var (
	// ErrSpec: the key spec or usage is not one kmsd has, or the usage
	// does not fit the spec.
	ErrSpec = errors.New("key spec")
	// ErrAlgorithm: the algorithm does not fit the key (InvalidKeyUsage).
	ErrAlgorithm = errors.New("algorithm")
	// ErrInput: a message, digest, plaintext or public key is not
	// acceptable (Validation).
	ErrInput = errors.New("input")
	// ErrSignature: the signature does not verify.
	ErrSignature = errors.New("invalid signature")
	// ErrMAC: the MAC does not verify.
	ErrMAC = errors.New("invalid mac")
	// ErrCiphertext: an RSA ciphertext does not decrypt.
	ErrCiphertext = errors.New("invalid ciphertext")
	// ErrMaterial: stored or imported material is not a key of the spec.
	ErrMaterial = errors.New("key material")
)

type family int

const (
	familyRSA family = iota + 1
	familyNIST
	familyK1
	familyHMAC
	familyMLDSA
)

// Spec is what kmsd knows of one key spec.
type Spec struct {
	Name   string
	family family
	bits   int // RSA modulus, curve size, HMAC key, ML-DSA parameter set (44, 65, 87)
	hash   crypto.Hash
	// usages and the algorithms of each.
	usages map[string][]string
}

var (
	rsaSigning    = []string{"RSASSA_PSS_SHA_256", "RSASSA_PSS_SHA_384", "RSASSA_PSS_SHA_512", "RSASSA_PKCS1_V1_5_SHA_256", "RSASSA_PKCS1_V1_5_SHA_384", "RSASSA_PKCS1_V1_5_SHA_512"}
	rsaEncryption = []string{"RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"}
)

func rsaSpec(name string, bits int) *Spec {
	return &Spec{Name: name, family: familyRSA, bits: bits,
		usages: map[string][]string{UsageEncryptDecrypt: rsaEncryption, UsageSignVerify: rsaSigning}}
}

func nistSpec(name string, bits int, h crypto.Hash, alg string) *Spec {
	return &Spec{Name: name, family: familyNIST, bits: bits, hash: h,
		usages: map[string][]string{UsageSignVerify: {alg}, UsageKeyAgreement: {ECDH}}}
}

func hmacSpec(name string, bits int, h crypto.Hash, alg string) *Spec {
	return &Spec{Name: name, family: familyHMAC, bits: bits, hash: h, usages: map[string][]string{UsageMAC: {alg}}}
}

func mldsaSpec(name string, level int) *Spec {
	return &Spec{Name: name, family: familyMLDSA, bits: level, usages: map[string][]string{UsageSignVerify: {"ML_DSA_SHAKE_256"}}}
}

var specs = map[string]*Spec{}

func init() {
	for _, s := range []*Spec{
		rsaSpec("RSA_2048", 2048), rsaSpec("RSA_3072", 3072), rsaSpec("RSA_4096", 4096),
		nistSpec("ECC_NIST_P256", 256, crypto.SHA256, "ECDSA_SHA_256"),
		nistSpec("ECC_NIST_P384", 384, crypto.SHA384, "ECDSA_SHA_384"),
		nistSpec("ECC_NIST_P521", 521, crypto.SHA512, "ECDSA_SHA_512"),
		{Name: "ECC_SECG_P256K1", family: familyK1, bits: 256, hash: crypto.SHA256,
			usages: map[string][]string{UsageSignVerify: {"ECDSA_SHA_256"}}},
		hmacSpec("HMAC_224", 224, crypto.SHA224, "HMAC_SHA_224"),
		hmacSpec("HMAC_256", 256, crypto.SHA256, "HMAC_SHA_256"),
		hmacSpec("HMAC_384", 384, crypto.SHA384, "HMAC_SHA_384"),
		hmacSpec("HMAC_512", 512, crypto.SHA512, "HMAC_SHA_512"),
		mldsaSpec("ML_DSA_44", 44), mldsaSpec("ML_DSA_65", 65), mldsaSpec("ML_DSA_87", 87),
	} {
		specs[s.Name] = s
	}
}

// Lookup returns the spec of that name, or nil (SYMMETRIC_DEFAULT is
// package keystore's, not this one's).
func Lookup(name string) *Spec { return specs[name] }

// Names lists every spec, sorted.
func Names() []string {
	out := make([]string, 0, len(specs))
	for n := range specs {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// Usages lists the key usages the spec allows, sorted.
func (s *Spec) Usages() []string {
	out := make([]string, 0, len(s.usages))
	for u := range s.usages {
		out = append(out, u)
	}
	slices.Sort(out)
	return out
}

// DefaultUsage is the usage CreateKey takes when none is given: AWS
// requires one for every spec but the symmetric, so this is "" unless the
// spec allows only one (HMAC keys, secp256k1, ML-DSA).
func (s *Spec) DefaultUsage() string {
	if len(s.usages) == 1 {
		for u := range s.usages {
			return u
		}
	}
	return ""
}

// Allows reports whether a key of the spec may have the usage.
func (s *Spec) Allows(usage string) bool { _, ok := s.usages[usage]; return ok }

// Algorithms lists the algorithms of a key of the spec and usage, in
// AWS's order: DescribeKey's SigningAlgorithms, EncryptionAlgorithms,
// MacAlgorithms or KeyAgreementAlgorithms.
func (s *Spec) Algorithms(usage string) []string { return slices.Clone(s.usages[usage]) }

// IsMAC reports whether the spec is an HMAC key's.
func (s *Spec) IsMAC() bool { return s.family == familyHMAC }

// IsRSA reports whether the spec is an RSA key's (slow to make).
func (s *Spec) IsRSA() bool { return s.family == familyRSA }

// IsPair reports whether GenerateDataKeyPair can make a pair of the
// spec (RSA and elliptic-curve keys).
func (s *Spec) IsPair() bool {
	return s.family == familyRSA || s.family == familyNIST || s.family == familyK1
}

func (s *Spec) hasAlgorithm(usage, alg string) bool { return slices.Contains(s.usages[usage], alg) }
