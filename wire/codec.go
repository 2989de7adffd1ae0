package wire

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/vmihailenco/msgpack/v5"
)

// Message is implemented by every request and response body: it lists its
// fields, in wire order, as (AWS name, pointer) pairs. One encoder and one
// decoder serve every Message, so each type's wire form is its field list.
//
// Supported pointer types: *string, *[]byte, *int32, *int64, *bool,
// *time.Time, **time.Time, *map[string]string, *[]string, a Message
// (nested map), and a list built by listOf (array of maps).
type Message interface {
	fields(*fieldList)
}

const maxFields = 24

type fieldList struct {
	names [maxFields]string
	ptrs  [maxFields]any
	n     int
}

func (l *fieldList) add(name string, p any) {
	l.names[l.n], l.ptrs[l.n] = name, p
	l.n++
}

var fieldLists = sync.Pool{New: func() any { return new(fieldList) }}

func fieldsOf(m Message) *fieldList {
	l := fieldLists.Get().(*fieldList)
	l.n = 0
	m.fields(l)
	return l
}

func releaseFields(l *fieldList) {
	clear(l.ptrs[:l.n])
	fieldLists.Put(l)
}

// list adapts a slice of messages for the codec.
type list interface {
	isNil() bool
	length() int
	at(i int) Message
	reset(n int)
}

type msgList[T any, P interface {
	*T
	Message
}] struct{ p *[]T }

func (l msgList[T, P]) isNil() bool      { return *l.p == nil }
func (l msgList[T, P]) length() int      { return len(*l.p) }
func (l msgList[T, P]) at(i int) Message { return P(&(*l.p)[i]) }
func (l msgList[T, P]) reset(n int)      { *l.p = make([]T, n) }

func listOf[T any, P interface {
	*T
	Message
}](p *[]T) list {
	return msgList[T, P]{p}
}

// MaxContextPairs is the most pairs an encryption context may hold on the
// wire (the service applies the same limit).
const MaxContextPairs = 64

// isZero reports whether a field holds its zero value; zero fields are not
// encoded.
func isZero(p any) bool {
	switch v := p.(type) {
	case *string:
		return *v == ""
	case *[]byte:
		return *v == nil
	case *int32:
		return *v == 0
	case *int64:
		return *v == 0
	case *bool:
		return !*v
	case *time.Time:
		return v.IsZero()
	case **time.Time:
		return *v == nil
	case *map[string]string:
		return *v == nil
	case *[]string:
		return *v == nil
	case list:
		return v.isNil() // an empty list is sent: "no aliases" is an answer
	case interface{ isEmpty() bool }:
		return v.isEmpty()
	case Message:
		return false
	}
	panic(fmt.Sprintf("wire: unsupported field type %T", p))
}

// encodeMessage writes m as a map of its non-zero fields, in field order.
func encodeMessage(e *msgpack.Encoder, m Message) error {
	l := fieldsOf(m)
	defer releaseFields(l)
	n := 0
	for i := range l.n {
		if !isZero(l.ptrs[i]) {
			n++
		}
	}
	if err := e.EncodeMapLen(n); err != nil {
		return err
	}
	for i := range l.n {
		if isZero(l.ptrs[i]) {
			continue
		}
		if err := e.EncodeString(l.names[i]); err != nil {
			return err
		}
		if err := encodeField(e, l.ptrs[i]); err != nil {
			return err
		}
	}
	return nil
}

func encodeField(e *msgpack.Encoder, p any) error {
	switch v := p.(type) {
	case *string:
		return e.EncodeString(*v)
	case *[]byte:
		return e.EncodeBytes(*v)
	case *int32:
		return e.EncodeInt(int64(*v))
	case *int64:
		return e.EncodeInt(*v)
	case *bool:
		return e.EncodeBool(*v)
	case *time.Time:
		return e.EncodeInt(v.UnixMilli())
	case **time.Time:
		return e.EncodeInt((*v).UnixMilli())
	case *map[string]string:
		return encodeContext(e, *v)
	case *[]string:
		if err := e.EncodeArrayLen(len(*v)); err != nil {
			return err
		}
		for _, s := range *v {
			if err := e.EncodeString(s); err != nil {
				return err
			}
		}
		return nil
	case list:
		if err := e.EncodeArrayLen(v.length()); err != nil {
			return err
		}
		for i := range v.length() {
			if err := encodeMessage(e, v.at(i)); err != nil {
				return err
			}
		}
		return nil
	case Message:
		return encodeMessage(e, v)
	}
	return fmt.Errorf("wire: unsupported field type %T", p)
}

// encodeContext writes a string map with its keys in ascending order, so
// an encoding is a pure function of the map.
func encodeContext(e *msgpack.Encoder, m map[string]string) error {
	if err := e.EncodeMapLen(len(m)); err != nil {
		return err
	}
	var arr [MaxContextPairs]string
	keys := arr[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if err := e.EncodeString(k); err != nil {
			return err
		}
		if err := e.EncodeString(m[k]); err != nil {
			return err
		}
	}
	return nil
}

// FieldError is a decoding failure tied to one field of a Message. The
// server answers it with ValidationException.
type FieldError struct {
	Field string
	Err   error
}

func (e *FieldError) Error() string { return "field " + e.Field + ": " + e.Err.Error() }
func (e *FieldError) Unwrap() error { return e.Err }

var (
	errWantMap    = errors.New("want a map")
	errWantArray  = errors.New("want an array")
	errDuplicate  = errors.New("appears twice")
	errNotUTF8    = errors.New("not valid UTF-8")
	errOutOfRange = errors.New("out of range")
)

// decodeMessage reads a map into m. Fields may come in any order; unknown
// fields are skipped (the body passed Validate, so skipping is bounded); a
// field that appears twice, a wrong type or an invalid string is an error.
// nil for a field leaves it zero.
func decodeMessage(d *msgpack.Decoder, m Message) error {
	n, err := d.DecodeMapLen()
	if err != nil {
		return errWantMap
	}
	if n < 0 {
		return nil // nil map: every field zero
	}
	l := fieldsOf(m)
	defer releaseFields(l)
	var seen uint32
	for range n {
		name, err := d.DecodeString()
		if err != nil {
			return errors.New("a field name is not a string")
		}
		i := 0
		for i < l.n && l.names[i] != name {
			i++
		}
		if i == l.n {
			if err := d.Skip(); err != nil {
				return err
			}
			continue
		}
		if seen&(1<<i) != 0 {
			return &FieldError{name, errDuplicate}
		}
		seen |= 1 << i
		if c, err := d.PeekCode(); err == nil && c == 0xc0 {
			d.DecodeNil()
			continue
		}
		if err := decodeField(d, l.ptrs[i]); err != nil {
			var fe *FieldError
			if errors.As(err, &fe) {
				return &FieldError{name + "." + fe.Field, fe.Err}
			}
			return &FieldError{name, err}
		}
	}
	return nil
}

func decodeString(d *msgpack.Decoder) (string, error) {
	s, err := d.DecodeString()
	if err != nil {
		return "", errors.New("want a string")
	}
	if !utf8.ValidString(s) {
		return "", errNotUTF8
	}
	return s, nil
}

func decodeField(d *msgpack.Decoder, p any) error {
	switch v := p.(type) {
	case *string:
		s, err := decodeString(d)
		*v = s
		return err
	case *[]byte:
		b, err := d.DecodeBytes()
		if err != nil {
			return errors.New("want bytes")
		}
		if b == nil {
			b = []byte{}
		}
		*v = b
		return nil
	case *int32:
		n, err := d.DecodeInt64()
		if err != nil {
			return errors.New("want an integer")
		}
		if n < -1<<31 || n > 1<<31-1 {
			return errOutOfRange
		}
		*v = int32(n)
		return nil
	case *int64:
		n, err := d.DecodeInt64()
		if err != nil {
			return errors.New("want an integer")
		}
		*v = n
		return nil
	case *bool:
		b, err := d.DecodeBool()
		if err != nil {
			return errors.New("want a boolean")
		}
		*v = b
		return nil
	case *time.Time:
		n, err := d.DecodeInt64()
		if err != nil {
			return errors.New("want milliseconds since the Unix epoch")
		}
		*v = time.UnixMilli(n).UTC()
		return nil
	case **time.Time:
		n, err := d.DecodeInt64()
		if err != nil {
			return errors.New("want milliseconds since the Unix epoch")
		}
		t := time.UnixMilli(n).UTC()
		*v = &t
		return nil
	case *map[string]string:
		return decodeContext(d, v)
	case *[]string:
		n, err := d.DecodeArrayLen()
		if err != nil || n < 0 {
			return errWantArray
		}
		out := make([]string, n)
		for i := range out {
			if out[i], err = decodeString(d); err != nil {
				return err
			}
		}
		*v = out
		return nil
	case list:
		n, err := d.DecodeArrayLen()
		if err != nil || n < 0 {
			return errWantArray
		}
		v.reset(n)
		for i := range n {
			if err := decodeMessage(d, v.at(i)); err != nil {
				return fmt.Errorf("item %d: %w", i, err)
			}
		}
		return nil
	case Message:
		return decodeMessage(d, v)
	}
	return fmt.Errorf("wire: unsupported field type %T", p)
}

// decodeContext reads an encryption context: at most MaxContextPairs
// pairs of UTF-8 strings, no key twice.
func decodeContext(d *msgpack.Decoder, v *map[string]string) error {
	n, err := d.DecodeMapLen()
	if err != nil || n < 0 {
		return errWantMap
	}
	if n > MaxContextPairs {
		return fmt.Errorf("%d pairs, at most %d", n, MaxContextPairs)
	}
	m := make(map[string]string, n)
	for range n {
		k, err := decodeString(d)
		if err != nil {
			return err
		}
		val, err := decodeString(d)
		if err != nil {
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
