// Package xaes implements XAES-256-GCM, the extended-nonce AEAD specified at
// https://c2sp.org/XAES-256-GCM, by composing crypto/aes and crypto/cipher as
// the specification describes. Nothing here is a new primitive: a NIST SP
// 800-108r1 counter KDF with CMAC-AES-256 derives a per-nonce AES-256 key
// from the first 12 bytes of a 24-byte nonce, and AES-256-GCM runs under that
// key with the last 12 bytes as its nonce.
//
// # Why
//
// AES-256-GCM with random 96-bit nonces may encrypt at most 2^32 messages
// under one key. XAES-256-GCM takes 192-bit random nonces and is safe for
// 2^80 messages at a collision risk of 2^-32, so a long-lived key version
// never has to count its messages.
//
// # Cost
//
// Deriving the subkey takes two AES block calls, but building an AES-GCM
// instance for it (key schedule and GHASH tables) dominates. [AEAD.Derive]
// exposes the per-prefix AES-GCM instance so a caller that controls its nonces
// (a random prefix and a counter) can reuse it: the ciphertext is exactly the
// one [AEAD.Seal] would produce for the same 24-byte nonce.
//
// The implementation is verified against the specification's vectors and its
// accumulated randomized tests (see xaes_test.go).
package xaes

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/subtle"
	"errors"
)

const (
	// KeySize is the size of an XAES-256-GCM key.
	KeySize = 32
	// NonceSize is the size of an XAES-256-GCM nonce.
	NonceSize = 24
	// PrefixSize is the part of the nonce that selects the derived key.
	PrefixSize = 12
	// Overhead is the size of the authentication tag.
	Overhead = 16
)

// AEAD is an XAES-256-GCM instance for one key. It implements
// [cipher.AEAD] with NonceSize 24 and Overhead 16 and is safe for concurrent
// use.
type AEAD struct {
	block cipher.Block
	k1    [aes.BlockSize]byte
}

var _ cipher.AEAD = (*AEAD)(nil)

// New returns an XAES-256-GCM AEAD for a 32-byte key. The key is not retained:
// only the AES key schedule and the CMAC subkey are.
func New(key []byte) (*AEAD, error) {
	if len(key) != KeySize {
		return nil, errors.New("xaes: key must be 32 bytes")
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	x := &AEAD{block: block}
	// Steps 1 and 2 of the spec: L = AES-256_K(0^128); K1 = L << 1, with
	// 0x87 xored into the last byte if the most significant bit of L was set.
	block.Encrypt(x.k1[:], x.k1[:])
	msb := x.k1[0] >> 7
	for i := 0; i < len(x.k1)-1; i++ {
		x.k1[i] = x.k1[i]<<1 | x.k1[i+1]>>7
	}
	x.k1[len(x.k1)-1] = x.k1[len(x.k1)-1]<<1 ^ byte(subtle.ConstantTimeByteEq(msb, 1))*0x87
	return x, nil
}

// NonceSize returns 24.
func (*AEAD) NonceSize() int { return NonceSize }

// Overhead returns 16.
func (*AEAD) Overhead() int { return Overhead }

// DeriveKey writes the 32-byte derived key Kx for the nonce prefix
// (the first 12 bytes of a nonce) into dst (steps 3 to 5 of the spec).
func (x *AEAD) DeriveKey(dst *[KeySize]byte, prefix []byte) {
	if len(prefix) != PrefixSize {
		panic("xaes: bad nonce prefix length")
	}
	var m [aes.BlockSize]byte
	m[1], m[2] = 0x01, 'X'
	copy(m[4:], prefix)
	subtle.XORBytes(m[:], m[:], x.k1[:])
	x.block.Encrypt(dst[:16], m[:])
	m[1] ^= 0x01 ^ 0x02 // counter 1 -> 2, still xored with K1
	x.block.Encrypt(dst[16:], m[:])
}

// Derive returns the AES-256-GCM instance (12-byte nonces) under the key
// derived from a 12-byte nonce prefix. Sealing with it and the nonce's last
// 12 bytes gives the same output as [AEAD.Seal] with the whole nonce.
func (x *AEAD) Derive(prefix []byte) (cipher.AEAD, error) {
	var kx [KeySize]byte
	x.DeriveKey(&kx, prefix)
	defer clear(kx[:])
	block, err := aes.NewCipher(kx[:])
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// Seal encrypts and authenticates plaintext with a 24-byte nonce and
// appends the result to dst, as [cipher.AEAD] specifies.
func (x *AEAD) Seal(dst, nonce, plaintext, additionalData []byte) []byte {
	if len(nonce) != NonceSize {
		panic("xaes: bad nonce length")
	}
	g, err := x.Derive(nonce[:PrefixSize])
	if err != nil {
		panic("xaes: " + err.Error()) // unreachable: the derived key is always 32 bytes
	}
	return g.Seal(dst, nonce[PrefixSize:], plaintext, additionalData)
}

// Open authenticates and decrypts ciphertext with a 24-byte nonce and
// appends the plaintext to dst, as [cipher.AEAD] specifies.
func (x *AEAD) Open(dst, nonce, ciphertext, additionalData []byte) ([]byte, error) {
	if len(nonce) != NonceSize {
		return nil, errors.New("xaes: bad nonce length")
	}
	g, err := x.Derive(nonce[:PrefixSize])
	if err != nil {
		return nil, err
	}
	return g.Open(dst, nonce[PrefixSize:], ciphertext, additionalData)
}

// Wipe zeroes the CMAC subkey held by x. It is best effort: the AES key
// schedule inside crypto/aes cannot be reached and stays until collected.
// x must not be used afterwards.
func (x *AEAD) Wipe() { clear(x.k1[:]) }
