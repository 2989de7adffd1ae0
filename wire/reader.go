package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"
	"unicode/utf8"

	"github.com/vmihailenco/msgpack/v5/msgpcode"
)

// reader decodes msgpack from a frame body that passed Validate, so that
// no length it meets runs past the body (each read checks again all the
// same). What it allocates is charged to budget first: a body decodes to
// at most a fixed multiple of its size, whatever its lengths and counts
// say (see decodeBudget).
type reader struct {
	b      []byte
	off    int
	budget int
	shared *sharing // non-nil while a batch's items are decoded in place
}

// sharing is how a batch's items are decoded in place: bin values refer
// into the frame instead of being copied, and what items repeat (a key
// id, an encryption context, grant tokens) is decoded once and shared, so
// that a batch of items alike allocates nothing per item. What is shared
// must not be changed.
type sharing struct {
	strs  map[string]string
	last  string // the string last found in strs or put there
	lists []shared[[]string]
	maps  []shared[map[string]string]
	// copied, if set, is where bin values go instead of referring into
	// the frame: one buffer for all of them, so that the frame can be
	// used again (DecodeResponseCopy).
	copied *[]byte
}

// copyBin returns a copy of p in s's shared buffer.
func (s *sharing) copyBin(p []byte) []byte {
	a := *s.copied
	if cap(a)-len(a) < len(p) {
		a = make([]byte, 0, max(len(p), 4<<10))
	}
	start := len(a)
	a = append(a, p...)
	*s.copied = a
	return a[start:len(a):len(a)]
}

// shared is a value decoded once, by its encoding in the frame.
type shared[T any] struct {
	raw []byte
	v   T
}

// maxShared bounds what sharing remembers, so that a frame of values that
// are all different costs no more than decoding them.
const maxShared = 64

// find returns the value whose encoding begins b[off:], if it is one
// already decoded, and where its encoding ends. An encoding that begins
// b[off:] is the whole value there: a msgpack value's encoding says where
// it ends, so none is a prefix of another.
func find[T any](known []shared[T], b []byte, off int) (T, int, bool) {
	rest := b[off:]
	for i := len(known) - 1; i >= 0; i-- {
		if raw := known[i].raw; len(raw) <= len(rest) && string(rest[:len(raw)]) == string(raw) {
			return known[i].v, off + len(raw), true
		}
	}
	var zero T
	return zero, 0, false
}

func remember[T any](known []shared[T], raw []byte, v T) []shared[T] {
	if len(known) >= maxShared {
		return known
	}
	return append(known, shared[T]{raw, v})
}

// decodeBudget is what decoding a body of n bytes may allocate: eight
// times the body, and 64 KiB. A request of any legitimate shape fits in
// it by far (its items are at most 3 times their encoding); a body of
// thousands of one-byte elements that would each decode to a structure
// does not.
func decodeBudget(n int) int { return 8*n + 64<<10 }

func newReader(body []byte) *reader { return &reader{b: body, budget: decodeBudget(len(body))} }

var (
	errTruncated  = errors.New("truncated")
	errWantMap    = errors.New("want a map")
	errWantArray  = errors.New("want an array")
	errWantString = errors.New("want a string")
	errWantBytes  = errors.New("want bytes")
	errWantInt    = errors.New("want an integer")
	errWantBool   = errors.New("want a boolean")
	errWantTime   = errors.New("want milliseconds since the Unix epoch")
	errDuplicate  = errors.New("appears twice")
	errNotUTF8    = errors.New("not valid UTF-8")
	errOutOfRange = errors.New("out of range")
	errTooLarge   = errors.New("the message decodes to more than its size allows")
)

// FieldError is a decoding failure tied to one field of a message. The
// server answers it with ValidationException.
type FieldError struct {
	Field string
	Err   error
}

func (e *FieldError) Error() string { return "field " + e.Field + ": " + e.Err.Error() }
func (e *FieldError) Unwrap() error { return e.Err }

// fieldError ties err to field, prefixing the field of a nested message.
func fieldError(field string, err error) error {
	var fe *FieldError
	if errors.As(err, &fe) {
		return &FieldError{field + "." + fe.Field, fe.Err}
	}
	return &FieldError{field, err}
}

// field marks field number i of a message seen, and fails if it was.
func (r *reader) field(seen *uint64, i int) error {
	if *seen&(1<<i) != 0 {
		return errDuplicate
	}
	*seen |= 1 << i
	return nil
}

// charge takes n bytes from the budget, before they are allocated.
func (r *reader) charge(n int) error {
	if n < 0 || n > r.budget {
		r.budget = 0
		return errTooLarge
	}
	r.budget -= n
	return nil
}

func (r *reader) peek() (byte, error) {
	if r.off >= len(r.b) {
		return 0, errTruncated
	}
	return r.b[r.off], nil
}

func (r *reader) byte() (byte, error) {
	c, err := r.peek()
	if err == nil {
		r.off++
	}
	return c, err
}

// take returns the next n bytes of the body (not a copy).
func (r *reader) take(n int) ([]byte, error) {
	if n < 0 || n > len(r.b)-r.off {
		return nil, errTruncated
	}
	p := r.b[r.off : r.off+n : r.off+n]
	r.off += n
	return p, nil
}

// length reads a big-endian length of size bytes.
func (r *reader) length(size int) (int, error) {
	p, err := r.take(size)
	if err != nil {
		return 0, err
	}
	switch size {
	case 1:
		return int(p[0]), nil
	case 2:
		return int(binary.BigEndian.Uint16(p)), nil
	}
	n := binary.BigEndian.Uint32(p)
	if uint64(n) > uint64(len(r.b)) {
		return 0, errTruncated
	}
	return int(n), nil
}

// nextIsNil consumes a nil and reports true, or reports false and
// consumes nothing.
func (r *reader) nextIsNil() bool {
	if c, err := r.peek(); err == nil && c == msgpcode.Nil {
		r.off++
		return true
	}
	return false
}

// mapLen reads a map header (nil is an empty map).
func (r *reader) mapLen() (int, error) {
	c, err := r.byte()
	switch {
	case err != nil:
		return 0, errWantMap
	case c == msgpcode.Nil:
		return 0, nil
	case msgpcode.IsFixedMap(c):
		return int(c & 0x0f), nil
	case c == msgpcode.Map16:
		return r.length(2)
	case c == msgpcode.Map32:
		return r.length(4)
	}
	return 0, errWantMap
}

// arrayLen reads an array header of at most limit elements (0: no bound
// but the body's); nil is an empty array.
func (r *reader) arrayLen(limit int) (int, error) {
	c, err := r.byte()
	var n int
	switch {
	case err != nil:
		return 0, errWantArray
	case c == msgpcode.Nil:
		return 0, nil
	case msgpcode.IsFixedArray(c):
		n = int(c & 0x0f)
	case c == msgpcode.Array16:
		n, err = r.length(2)
	case c == msgpcode.Array32:
		n, err = r.length(4)
	default:
		return 0, errWantArray
	}
	if err != nil {
		return 0, err
	}
	if limit > 0 && n > limit {
		return 0, fmt.Errorf("%d elements, at most %d", n, limit)
	}
	return n, nil
}

// raw reads a str or bin and returns its bytes in the body.
func (r *reader) raw(want error) ([]byte, error) {
	c, err := r.byte()
	if err != nil {
		return nil, want
	}
	var n int
	switch {
	case msgpcode.IsFixedString(c):
		n = int(c & 0x1f)
	case c == msgpcode.Str8 || c == msgpcode.Bin8:
		n, err = r.length(1)
	case c == msgpcode.Str16 || c == msgpcode.Bin16:
		n, err = r.length(2)
	case c == msgpcode.Str32 || c == msgpcode.Bin32:
		n, err = r.length(4)
	default:
		return nil, want
	}
	if err != nil {
		return nil, err
	}
	return r.take(n)
}

// name reads a field name: its bytes in the body, not a copy.
func (r *reader) name() ([]byte, error) {
	p, err := r.raw(errWantString)
	if err != nil {
		return nil, errors.New("a field name is not a string")
	}
	return p, nil
}

func (r *reader) str(v *string) error {
	p, err := r.raw(errWantString)
	if err != nil {
		return err
	}
	if r.shared != nil {
		// A string seen before was checked then: the last one is compared
		// first (items alike repeat theirs), then the others.
		if s := r.shared.last; len(s) == len(p) && s == string(p) {
			*v = s
			return nil
		}
		if s, ok := r.shared.strs[string(p)]; ok {
			*v, r.shared.last = s, s
			return nil
		}
	}
	if !utf8.Valid(p) {
		return errNotUTF8
	}
	if err := r.charge(len(p)); err != nil {
		return err
	}
	*v = string(p)
	if r.shared != nil && len(r.shared.strs) < maxShared {
		r.shared.strs[*v] = *v
		r.shared.last = *v
	}
	return nil
}

// bin reads bytes into a copy of their own, or, decoding in place, refers
// to them in the frame or copies them into the batch's one buffer (an
// empty value is an empty, not a nil, slice).
func (r *reader) bin(v *[]byte) error {
	p, err := r.raw(errWantBytes)
	if err != nil {
		return err
	}
	if r.shared != nil && r.shared.copied == nil {
		*v = p
		return nil
	}
	if err := r.charge(len(p)); err != nil {
		return err
	}
	if r.shared != nil {
		*v = r.shared.copyBin(p)
		return nil
	}
	*v = append(make([]byte, 0, len(p)), p...)
	return nil
}

func (r *reader) bool(v *bool) error {
	switch c, err := r.byte(); {
	case err != nil:
		return errWantBool
	case c == msgpcode.True:
		*v = true
	case c == msgpcode.False:
		*v = false
	default:
		return errWantBool
	}
	return nil
}

// integer reads any msgpack integer that fits in an int64.
func (r *reader) integer() (int64, error) {
	c, err := r.byte()
	if err != nil {
		return 0, errWantInt
	}
	if msgpcode.IsFixedNum(c) {
		return int64(int8(c)), nil
	}
	var size int
	switch c {
	case msgpcode.Uint8, msgpcode.Int8:
		size = 1
	case msgpcode.Uint16, msgpcode.Int16:
		size = 2
	case msgpcode.Uint32, msgpcode.Int32:
		size = 4
	case msgpcode.Uint64, msgpcode.Int64:
		size = 8
	default:
		return 0, errWantInt
	}
	p, err := r.take(size)
	if err != nil {
		return 0, err
	}
	switch c {
	case msgpcode.Uint8:
		return int64(p[0]), nil
	case msgpcode.Int8:
		return int64(int8(p[0])), nil
	case msgpcode.Uint16:
		return int64(binary.BigEndian.Uint16(p)), nil
	case msgpcode.Int16:
		return int64(int16(binary.BigEndian.Uint16(p))), nil
	case msgpcode.Uint32:
		return int64(binary.BigEndian.Uint32(p)), nil
	case msgpcode.Int32:
		return int64(int32(binary.BigEndian.Uint32(p))), nil
	case msgpcode.Uint64:
		n := binary.BigEndian.Uint64(p)
		if n > math.MaxInt64 {
			return 0, errOutOfRange
		}
		return int64(n), nil
	}
	return int64(binary.BigEndian.Uint64(p)), nil
}

// uint reads a non-negative integer (the ids of the envelope).
func (r *reader) uint() (uint64, error) {
	if c, err := r.peek(); err == nil && c == msgpcode.Uint64 {
		p, err := r.take(9)
		if err != nil {
			return 0, err
		}
		return binary.BigEndian.Uint64(p[1:]), nil
	}
	n, err := r.integer()
	if err != nil || n < 0 {
		return 0, errWantInt
	}
	return uint64(n), nil
}

func (r *reader) int64(v *int64) error {
	n, err := r.integer()
	*v = n
	return err
}

func (r *reader) int32(v *int32) error {
	n, err := r.integer()
	if err != nil {
		return err
	}
	if n < math.MinInt32 || n > math.MaxInt32 {
		return errOutOfRange
	}
	*v = int32(n)
	return nil
}

func (r *reader) optInt32(v **int32) error {
	var n int32
	if err := r.int32(&n); err != nil {
		return err
	}
	*v = &n
	return nil
}

func (r *reader) time(v *time.Time) error {
	n, err := r.integer()
	if err != nil {
		return errWantTime
	}
	*v = time.UnixMilli(n).UTC()
	return nil
}

func (r *reader) optTime(v **time.Time) error {
	var t time.Time
	if err := r.time(&t); err != nil {
		return err
	}
	*v = &t
	return nil
}

// strMap reads a map of UTF-8 strings (an encryption context): at most
// limit pairs (0: no bound but the body's), no key twice.
func (r *reader) strMap(v *map[string]string, limit int) error {
	if r.shared == nil {
		return r.decodeStrMap(v, limit)
	}
	start := r.off
	if m, end, ok := find(r.shared.maps, r.b, start); ok {
		*v, r.off = m, end
		return nil
	}
	if err := r.decodeStrMap(v, limit); err != nil {
		return err
	}
	r.shared.maps = remember(r.shared.maps, r.b[start:r.off], *v)
	return nil
}

func (r *reader) decodeStrMap(v *map[string]string, limit int) error {
	n, err := r.mapLen()
	if err != nil {
		return err
	}
	if limit > 0 && n > limit {
		return fmt.Errorf("%d pairs, at most %d", n, limit)
	}
	if err := r.charge(64 * n); err != nil {
		return err
	}
	m := make(map[string]string, n)
	for range n {
		var k, val string
		if err := r.str(&k); err != nil {
			return err
		}
		if err := r.str(&val); err != nil {
			return err
		}
		if _, dup := m[k]; dup {
			return fmt.Errorf("key %q %w", k, errDuplicate)
		}
		m[k] = val
	}
	*v = m
	return nil
}

func (r *reader) strList(v *[]string, limit int) error {
	if r.shared == nil {
		return r.decodeStrList(v, limit)
	}
	start := r.off
	if l, end, ok := find(r.shared.lists, r.b, start); ok {
		*v, r.off = l, end
		return nil
	}
	if err := r.decodeStrList(v, limit); err != nil {
		return err
	}
	r.shared.lists = remember(r.shared.lists, r.b[start:r.off], *v)
	return nil
}

func (r *reader) decodeStrList(v *[]string, limit int) error {
	n, err := r.arrayLen(limit)
	if err != nil {
		return err
	}
	if err := r.charge(16 * n); err != nil {
		return err
	}
	l := make([]string, n)
	for i := range l {
		if err := r.str(&l[i]); err != nil {
			return err
		}
	}
	*v = l
	return nil
}

// decodeList reads an array of messages, each of size bytes in memory.
func decodeList[T any](r *reader, v *[]T, limit, size int, decode func(*reader, *T) error) error {
	n, err := r.arrayLen(limit)
	if err != nil {
		return err
	}
	if err := r.charge(size * n); err != nil {
		return err
	}
	l := make([]T, n)
	for i := range l {
		if err := decode(r, &l[i]); err != nil {
			return fmt.Errorf("item %d: %w", i, err)
		}
	}
	*v = l
	return nil
}

// done checks that the body ends where the value read ends.
func (r *reader) done() error {
	if r.off != len(r.b) {
		return protocolErr("%d bytes after the frame's value", len(r.b)-r.off)
	}
	return nil
}

// requestDone is done for a request, whose id is known: an error it can
// be answered with.
func (r *reader) requestDone() error {
	if r.off != len(r.b) {
		return validation("%d bytes after the request", len(r.b)-r.off)
	}
	return nil
}

// skip passes over one value (of a field this decoder does not know).
func (r *reader) skip() error {
	end, err := validateValue(r.b, r.off, MaxDepth)
	if err != nil {
		return err
	}
	r.off = end
	return nil
}

// skipField passes over a field name and its value.
func (r *reader) skipField() error {
	if _, err := r.name(); err != nil {
		return err
	}
	return r.skip()
}
