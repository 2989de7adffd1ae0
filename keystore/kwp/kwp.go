// Package kwp unwraps keys wrapped with AES Key Wrap with Padding (RFC 5649,
// NIST SP 800-38F KWP), as `openssl enc -id-aes256-wrap-pad` and AWS's
// RSA_AES_KEY_WRAP import algorithms wrap them. It composes crypto/aes as
// the RFC gives the algorithm, and is checked against the RFC's examples
// (testdata/vectors.json). kmsd only unwraps; Wrap is for tests and tools.
package kwp

import (
	"crypto/aes"
	"crypto/subtle"
	"encoding/binary"
	"errors"
)

// aivPrefix is the first half of RFC 5649's alternative initial value.
var aivPrefix = []byte{0xa6, 0x59, 0x59, 0xa6}

// ErrUnwrap is every failure to unwrap: a wrong key, a changed or cut
// ciphertext, bad padding. It says no more, on purpose.
var ErrUnwrap = errors.New("kwp: the wrapped key does not unwrap (wrong key, or changed)")

// Unwrap returns the key that ciphertext wraps under kek (16, 24 or 32
// bytes).
func Unwrap(kek, ciphertext []byte) ([]byte, error) {
	b, err := aes.NewCipher(kek)
	if err != nil {
		return nil, err
	}
	if len(ciphertext) < 16 || len(ciphertext)%8 != 0 {
		return nil, ErrUnwrap
	}
	n := len(ciphertext)/8 - 1 // 64-bit blocks of the padded key
	var a [8]byte
	r := make([]byte, n*8)
	if n == 1 {
		var blk [16]byte
		b.Decrypt(blk[:], ciphertext)
		copy(a[:], blk[:8])
		copy(r, blk[8:])
		clear(blk[:])
	} else {
		// RFC 3394's unwrapping process, W^-1.
		copy(a[:], ciphertext[:8])
		copy(r, ciphertext[8:])
		var blk [16]byte
		for j := 5; j >= 0; j-- {
			for i := n; i >= 1; i-- {
				t := uint64(n*j + i)
				binary.BigEndian.PutUint64(blk[:8], binary.BigEndian.Uint64(a[:])^t)
				copy(blk[8:], r[(i-1)*8:i*8])
				b.Decrypt(blk[:], blk[:])
				copy(a[:], blk[:8])
				copy(r[(i-1)*8:], blk[8:])
			}
		}
		clear(blk[:])
	}
	mli := int(binary.BigEndian.Uint32(a[4:]))
	ok := subtle.ConstantTimeCompare(a[:4], aivPrefix) == 1 && mli > 8*(n-1) && mli <= 8*n
	if ok {
		pad := r[mli:]
		ok = subtle.ConstantTimeCompare(pad, make([]byte, len(pad))) == 1
	}
	if !ok {
		clear(r)
		return nil, ErrUnwrap
	}
	return r[:mli], nil
}

// Wrap wraps key under kek (RFC 5649 section 4.1). kmsd itself never
// wraps; tests and tools that make import material do.
func Wrap(kek, key []byte) ([]byte, error) {
	b, err := aes.NewCipher(kek)
	if err != nil {
		return nil, err
	}
	if len(key) == 0 || len(key) > 1<<32-1 {
		return nil, errors.New("kwp: a key of 1 byte to 4 GiB")
	}
	n := (len(key) + 7) / 8
	var a [8]byte
	copy(a[:4], aivPrefix)
	binary.BigEndian.PutUint32(a[4:], uint32(len(key)))
	r := make([]byte, n*8)
	copy(r, key)
	if n == 1 {
		out := make([]byte, 16)
		copy(out, a[:])
		copy(out[8:], r)
		b.Encrypt(out, out)
		return out, nil
	}
	var blk [16]byte
	for j := 0; j <= 5; j++ {
		for i := 1; i <= n; i++ {
			copy(blk[:8], a[:])
			copy(blk[8:], r[(i-1)*8:i*8])
			b.Encrypt(blk[:], blk[:])
			t := uint64(n*j + i)
			binary.BigEndian.PutUint64(a[:], binary.BigEndian.Uint64(blk[:8])^t)
			copy(r[(i-1)*8:], blk[8:])
		}
	}
	return append(a[:], r...), nil
}
