package keyspec

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
)

// oaepHash is the hash of an RSAES_OAEP algorithm (MGF1 uses the same).
func (p *Private) oaepHash(alg string) (crypto.Hash, error) {
	if !p.spec.hasAlgorithm(UsageEncryptDecrypt, alg) {
		return 0, fmt.Errorf("%w: %s keys encrypt with RSAES_OAEP_SHA_1 or RSAES_OAEP_SHA_256, not %q", ErrAlgorithm, p.spec.Name, alg)
	}
	if alg == "RSAES_OAEP_SHA_1" {
		return crypto.SHA1, nil
	}
	return crypto.SHA256, nil
}

// MaxPlaintext is the most an RSAES_OAEP plaintext may hold with the key:
// the modulus's bytes less twice the digest and two.
func (p *Private) MaxPlaintext(alg string) (int, error) {
	h, err := p.oaepHash(alg)
	if err != nil {
		return 0, err
	}
	return p.rsa.Size() - 2*h.Size() - 2, nil
}

// Encrypt encrypts with the public key (RSAES-OAEP, no label), as AWS's
// Encrypt with an RSA key does: anyone with the public key can do the
// same.
func (p *Private) Encrypt(alg string, plaintext []byte) ([]byte, error) {
	n, err := p.MaxPlaintext(alg)
	if err != nil {
		return nil, err
	}
	if len(plaintext) == 0 || len(plaintext) > n {
		return nil, fmt.Errorf("%w: Plaintext must be 1 to %d bytes for %s with %s", ErrInput, n, p.spec.Name, alg)
	}
	h, _ := p.oaepHash(alg)
	return rsa.EncryptOAEP(h.New(), rand.Reader, &p.rsa.PublicKey, plaintext, nil)
}

// Decrypt opens an RSAES-OAEP ciphertext; any failure is ErrCiphertext,
// saying nothing of why.
func (p *Private) Decrypt(alg string, ciphertext []byte) ([]byte, error) {
	h, err := p.oaepHash(alg)
	if err != nil {
		return nil, err
	}
	if len(ciphertext) != p.rsa.Size() {
		return nil, ErrCiphertext
	}
	pt, err := rsa.DecryptOAEP(h.New(), nil, p.rsa, ciphertext, nil)
	if err != nil {
		return nil, ErrCiphertext
	}
	return pt, nil
}
