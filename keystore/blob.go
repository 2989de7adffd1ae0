package keystore

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"sync"
)

// The ciphertext blob, format version 1 (docs/ciphertext-format.md):
//
//	offset size
//	0      1    format version, 0x01
//	1      1    algorithm (Alg)
//	2      16   key id
//	18     4    key material version, big-endian
//	22     24   nonce
//	46     n    ciphertext
//	46+n   16   tag
//
// The additional data is the 46-byte header followed by the canonical
// encryption context (AppendContext).
const (
	BlobFormatV1   = 0x01
	BlobHeaderSize = 46
	BlobNonceSize  = 24
	BlobTagSize    = 16
	// BlobOverhead is the size of a blob minus the size of its plaintext.
	BlobOverhead = BlobHeaderSize + BlobTagSize
)

// ErrBlob is returned for any blob that is malformed or fails
// authentication. Callers must not learn more than that: the service reports
// every such failure as InvalidCiphertextException.
var ErrBlob = errors.New("invalid ciphertext")

// BlobHeader is the clear part of a blob.
type BlobHeader struct {
	Alg        Alg
	KeyID      KeyID
	KeyVersion uint32
}

// ParseBlobHeader reads the header of a blob without authenticating it:
// only enough to find the key. Anything shorter than a header and a tag, or
// with an unknown format or algorithm, is ErrBlob.
func ParseBlobHeader(blob []byte) (BlobHeader, error) {
	if len(blob) < BlobOverhead || blob[0] != BlobFormatV1 {
		return BlobHeader{}, ErrBlob
	}
	h := BlobHeader{Alg: Alg(blob[1]), KeyVersion: binary.BigEndian.Uint32(blob[18:22])}
	if h.Alg != AlgXAES256GCM && h.Alg != AlgXChaCha20Poly1305 && h.Alg != AlgHSMAES256GCM {
		return BlobHeader{}, ErrBlob
	}
	copy(h.KeyID[:], blob[2:18])
	return h, nil
}

// aadPool holds scratch buffers for additional data, so the hot path does
// not allocate one per call.
var aadPool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// SealBlob encrypts plaintext under version m of key id with suite alg and
// appends the blob to dst. An invalid context is an error.
func SealBlob(dst []byte, m *Material, alg Alg, id KeyID, ec map[string]string, plaintext []byte) ([]byte, error) {
	c, err := ParseContext(ec)
	if err != nil {
		return dst, err
	}
	defer c.Release()
	return SealBlobContext(dst, m, nil, alg, id, c, plaintext)
}

// SealBlobContext is SealBlob with a parsed context (nil for none), taking
// an XAES-256-GCM nonce from run (nil: from m alone).
func SealBlobContext(dst []byte, m *Material, run *NonceRun, alg Alg, id KeyID, c *Context, plaintext []byte) ([]byte, error) {
	start := len(dst)
	dst = append(dst, BlobFormatV1, byte(alg))
	dst = append(dst, id[:]...)
	dst = binary.BigEndian.AppendUint32(dst, m.Version)
	dst = append(dst, make([]byte, BlobNonceSize)...)
	header := dst[start : start+BlobHeaderSize]
	bp := aadPool.Get().(*[]byte)
	defer aadPool.Put(bp)
	aad := append((*bp)[:0], header...)
	aad = c.appendEncoding(aad)
	*bp = aad[:0]
	// The nonce is chosen after the additional data is built, so write it
	// into both the blob and the copy of the header inside aad.
	dst, err := m.seal(dst, run, alg, header[22:46], aad[22:46], aad, plaintext)
	if err != nil {
		return dst[:start], err
	}
	return dst, nil
}

// OpenBlob authenticates and decrypts a blob whose header names version m of
// key id, with encryption context ec, appending the plaintext to dst. Every
// failure is ErrBlob.
func OpenBlob(dst []byte, m *Material, id KeyID, ec map[string]string, blob []byte) ([]byte, error) {
	c, err := ParseContext(ec)
	if err != nil {
		return dst, ErrBlob
	}
	defer c.Release()
	return OpenBlobContext(dst, m, id, c, blob)
}

// OpenBlobContext is OpenBlob with a parsed context (nil for none).
func OpenBlobContext(dst []byte, m *Material, id KeyID, c *Context, blob []byte) ([]byte, error) {
	h, err := ParseBlobHeader(blob)
	if err != nil || h.Alg == AlgHSMAES256GCM || h.KeyID != id || h.KeyVersion != m.Version {
		return dst, ErrBlob
	}
	bp := aadPool.Get().(*[]byte)
	defer aadPool.Put(bp)
	aad := append((*bp)[:0], blob[:BlobHeaderSize]...)
	aad = c.appendEncoding(aad)
	*bp = aad[:0]
	out, err := m.open(dst, h.Alg, blob[22:46], blob[BlobHeaderSize:], aad)
	if err != nil {
		return dst, ErrBlob
	}
	return out, nil
}

// appendEncoding appends the canonical encoding (two zero bytes for none).
func (c *Context) appendEncoding(dst []byte) []byte {
	if c == nil {
		return append(dst, 0, 0)
	}
	return append(dst, c.enc...)
}

// HSMIVSize is the IV of an AlgHSMAES256GCM blob, the start of its nonce
// field.
const HSMIVSize = 12

// ExternalSeal seals plaintext with AES-256-GCM outside kmsd (a PKCS#11
// token): ciphertext and 16-byte tag appended to dst, for the 12-byte iv
// and the additional data aad.
type ExternalSeal func(dst, iv, aad, plaintext []byte) ([]byte, error)

// ExternalOpen is ExternalSeal's inverse; it fails if the tag does not
// authenticate.
type ExternalOpen func(dst, iv, aad, ciphertext []byte) ([]byte, error)

// SealBlobExternal is SealBlobContext for a key that never leaves a token:
// the same header, key id, version and context binding, the sealing done
// by seal with a random IV (AlgHSMAES256GCM).
func SealBlobExternal(dst []byte, seal ExternalSeal, id KeyID, v uint32, c *Context, plaintext []byte) ([]byte, error) {
	start := len(dst)
	dst = append(dst, BlobFormatV1, byte(AlgHSMAES256GCM))
	dst = append(dst, id[:]...)
	dst = binary.BigEndian.AppendUint32(dst, v)
	var nonce [BlobNonceSize]byte
	if _, err := rand.Read(nonce[:HSMIVSize]); err != nil {
		return dst[:start], err
	}
	dst = append(dst, nonce[:]...)
	aad := c.appendEncoding(append([]byte(nil), dst[start:start+BlobHeaderSize]...))
	out, err := seal(dst, nonce[:HSMIVSize], aad, plaintext)
	if err != nil || len(out) != start+BlobOverhead+len(plaintext) {
		return dst[:start], errors.Join(err, errors.New("the token's seal has the wrong length"))
	}
	return out, nil
}

// OpenBlobExternal is OpenBlobContext for an AlgHSMAES256GCM blob of
// version v of key id; every failure is ErrBlob.
func OpenBlobExternal(dst []byte, open ExternalOpen, id KeyID, v uint32, c *Context, blob []byte) ([]byte, error) {
	h, err := ParseBlobHeader(blob)
	if err != nil || h.Alg != AlgHSMAES256GCM || h.KeyID != id || h.KeyVersion != v {
		return dst, ErrBlob
	}
	for _, b := range blob[22+HSMIVSize : 46] {
		if b != 0 {
			return dst, ErrBlob
		}
	}
	aad := c.appendEncoding(append([]byte(nil), blob[:BlobHeaderSize]...))
	out, err := open(dst, blob[22:22+HSMIVSize], aad, blob[BlobHeaderSize:])
	if err != nil {
		return dst, ErrBlob
	}
	return out, nil
}
