package keystore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"unicode/utf8"
)

// Limits on an encryption context. AWS documents none beyond the request
// size; these keep the canonical form, the additional data and the audit
// record small.
const (
	MaxContextPairs    = 64
	MaxContextKeyLen   = 256
	MaxContextValueLen = 1024
	MaxContextSize     = 8192 // of the canonical encoding
)

// ErrContext marks an encryption context that breaks a rule above. The
// service reports it as ValidationException.
var ErrContext = errors.New("invalid encryption context")

// AppendContext appends the canonical encoding of an encryption context to
// dst: a 2-byte big-endian pair count, then for each pair in ascending byte
// order of its key, a 2-byte length and the key, a 2-byte length and the
// value. The encoding is injective, so no two contexts share additional
// data. A nil or empty context encodes as two zero bytes. Keys must be 1 to
// 256 bytes and values at most 1024 bytes of valid UTF-8; a map cannot hold a
// duplicate key, and decoders that build one must reject duplicates.
func AppendContext(dst []byte, ec map[string]string) ([]byte, error) {
	if len(ec) > MaxContextPairs {
		return dst, fmt.Errorf("%w: %d pairs, at most %d", ErrContext, len(ec), MaxContextPairs)
	}
	var arr [MaxContextPairs]string
	keys := arr[:0]
	size := 2
	for k, v := range ec {
		if len(k) == 0 || len(k) > MaxContextKeyLen {
			return dst, fmt.Errorf("%w: a key must be 1 to %d bytes", ErrContext, MaxContextKeyLen)
		}
		if len(v) > MaxContextValueLen {
			return dst, fmt.Errorf("%w: the value of %q is over %d bytes", ErrContext, k, MaxContextValueLen)
		}
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return dst, fmt.Errorf("%w: keys and values must be UTF-8", ErrContext)
		}
		size += 4 + len(k) + len(v)
		keys = append(keys, k)
	}
	if size > MaxContextSize {
		return dst, fmt.Errorf("%w: %d bytes encoded, at most %d", ErrContext, size, MaxContextSize)
	}
	slices.Sort(keys)
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(keys)))
	for _, k := range keys {
		v := ec[k]
		dst = binary.BigEndian.AppendUint16(dst, uint16(len(k)))
		dst = append(dst, k...)
		dst = binary.BigEndian.AppendUint16(dst, uint16(len(v)))
		dst = append(dst, v...)
	}
	return dst, nil
}

// ValidateContext checks an encryption context against the rules of
// AppendContext without encoding it.
func ValidateContext(ec map[string]string) error {
	var buf [64]byte
	_, err := AppendContext(buf[:0], ec)
	return err
}
