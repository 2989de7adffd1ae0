package keystore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync"
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
	for k := range ec {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return appendSorted(dst, ec, keys)
}

// appendSorted checks the pairs of ec and appends their canonical encoding,
// given its keys in ascending order.
func appendSorted(dst []byte, ec map[string]string, keys []string) ([]byte, error) {
	if len(keys) > MaxContextPairs {
		return dst, fmt.Errorf("%w: %d pairs, at most %d", ErrContext, len(keys), MaxContextPairs)
	}
	size := 2
	for _, k := range keys {
		v := ec[k]
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
	}
	if size > MaxContextSize {
		return dst, fmt.Errorf("%w: %d bytes encoded, at most %d", ErrContext, size, MaxContextSize)
	}
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

// Context is a validated encryption context, parsed once per request: the
// pairs, the keys in canonical order and the canonical encoding. Get one
// with ParseContext and give it back with Release when the request is done.
type Context struct {
	pairs map[string]string
	keys  []string
	enc   []byte
}

var contexts = sync.Pool{New: func() any {
	return &Context{keys: make([]string, 0, 8), enc: make([]byte, 0, 256)}
}}

// ParseContext validates ec (see AppendContext) and encodes it.
func ParseContext(ec map[string]string) (*Context, error) {
	c := contexts.Get().(*Context)
	c.pairs, c.keys = ec, c.keys[:0]
	for k := range ec {
		c.keys = append(c.keys, k)
	}
	slices.Sort(c.keys)
	enc, err := appendSorted(c.enc[:0], ec, c.keys)
	c.enc = enc
	if err != nil {
		c.Release()
		return nil, err
	}
	return c, nil
}

// Map returns the pairs (nil for an empty context).
func (c *Context) Map() map[string]string {
	if c == nil {
		return nil
	}
	return c.pairs
}

// Keys returns the keys in ascending byte order; callers must not keep it.
func (c *Context) Keys() []string {
	if c == nil {
		return nil
	}
	return c.keys
}

// Release returns c to the pool; c must not be used afterwards.
func (c *Context) Release() {
	if c == nil {
		return
	}
	c.pairs = nil
	clear(c.keys)
	if cap(c.enc) > 64<<10 {
		c.enc = make([]byte, 0, 256)
	}
	contexts.Put(c)
}
