package keystore

import (
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
	if h.Alg != AlgXAES256GCM && h.Alg != AlgXChaCha20Poly1305 {
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
	return SealBlobContext(dst, m, alg, id, c, plaintext)
}

// SealBlobContext is SealBlob with a parsed context (nil for none).
func SealBlobContext(dst []byte, m *Material, alg Alg, id KeyID, c *Context, plaintext []byte) ([]byte, error) {
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
	dst, err := m.seal(dst, alg, header[22:46], aad[22:46], aad, plaintext)
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
	if err != nil || h.KeyID != id || h.KeyVersion != m.Version {
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
