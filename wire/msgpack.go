package wire

import (
	"encoding/binary"
	"errors"
	"math"
	"slices"
	"unsafe"

	"github.com/vmihailenco/msgpack/v5/msgpcode"
)

// The msgpack primitives of the codec. They write exactly what
// vmihailenco/msgpack's Encoder writes (the shortest form of every
// length and integer), so frames are the same byte for byte whichever
// writes them; the golden frames in testdata check it.

func appendMapLen(b []byte, n int) []byte {
	switch {
	case n < 16:
		return append(b, msgpcode.FixedMapLow|byte(n))
	case n <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(b, msgpcode.Map16), uint16(n))
	}
	return binary.BigEndian.AppendUint32(append(b, msgpcode.Map32), uint32(n))
}

// beginMap reserves the one-byte header of a map whose length is not
// known yet; endMap writes it once it is.
func beginMap(b []byte) ([]byte, int) { return append(b, 0), len(b) }

// endMap writes the header of the map of n entries that begins at at:
// a fixmap in the byte reserved, or a map16 (made room for) from 16 on.
func endMap(b []byte, at, n int) []byte {
	if n < 16 {
		b[at] = msgpcode.FixedMapLow | byte(n)
		return b
	}
	b = append(b, 0, 0)
	copy(b[at+3:], b[at+1:len(b)-2])
	b[at] = msgpcode.Map16
	binary.BigEndian.PutUint16(b[at+1:], uint16(n))
	return b
}

func appendArrayLen(b []byte, n int) []byte {
	switch {
	case n < 16:
		return append(b, msgpcode.FixedArrayLow|byte(n))
	case n <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(b, msgpcode.Array16), uint16(n))
	}
	return binary.BigEndian.AppendUint32(append(b, msgpcode.Array32), uint32(n))
}

func appendStr(b []byte, s string) []byte {
	switch n := len(s); {
	case n < 32:
		b = append(b, msgpcode.FixedStrLow|byte(n))
	case n < 256:
		b = append(b, msgpcode.Str8, byte(n))
	case n <= math.MaxUint16:
		b = binary.BigEndian.AppendUint16(append(b, msgpcode.Str16), uint16(n))
	default:
		b = binary.BigEndian.AppendUint32(append(b, msgpcode.Str32), uint32(n))
	}
	return append(b, s...)
}

// appendBinHeader writes the header of a bin of n bytes.
func appendBinHeader(b []byte, n int) []byte {
	switch {
	case n < 256:
		return append(b, msgpcode.Bin8, byte(n))
	case n <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(b, msgpcode.Bin16), uint16(n))
	}
	return binary.BigEndian.AppendUint32(append(b, msgpcode.Bin32), uint32(n))
}

var (
	errNoFill     = errors.New("wire: the message has no fill field")
	errFillLength = errors.New("wire: a fill appended another length than it announced")
)

// fillExactly lets fill append n bytes to b; appending another number of
// bytes is an error.
func fillExactly(b []byte, n int, fill func([]byte) ([]byte, error)) ([]byte, error) {
	start := len(b)
	b, err := fill(b)
	if err == nil && len(b)-start != n {
		err = errFillLength
	}
	return b, err
}

// appendBin writes p as bin (nil as nil, as the Encoder does).
func appendBin(b, p []byte) []byte {
	if p == nil {
		return append(b, msgpcode.Nil)
	}
	return append(appendBinHeader(b, len(p)), p...)
}

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, msgpcode.True)
	}
	return append(b, msgpcode.False)
}

func appendNil(b []byte) []byte { return append(b, msgpcode.Nil) }

func appendUint(b []byte, n uint64) []byte {
	switch {
	case n <= math.MaxInt8:
		return append(b, byte(n))
	case n <= math.MaxUint8:
		return append(b, msgpcode.Uint8, byte(n))
	case n <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(b, msgpcode.Uint16), uint16(n))
	case n <= math.MaxUint32:
		return binary.BigEndian.AppendUint32(append(b, msgpcode.Uint32), uint32(n))
	}
	return binary.BigEndian.AppendUint64(append(b, msgpcode.Uint64), n)
}

func appendInt(b []byte, n int64) []byte {
	switch {
	case n >= 0:
		return appendUint(b, uint64(n))
	case n >= int64(int8(msgpcode.NegFixedNumLow)):
		return append(b, byte(n))
	case n >= math.MinInt8:
		return append(b, msgpcode.Int8, byte(n))
	case n >= math.MinInt16:
		return binary.BigEndian.AppendUint16(append(b, msgpcode.Int16), uint16(n))
	case n >= math.MinInt32:
		return binary.BigEndian.AppendUint32(append(b, msgpcode.Int32), uint32(n))
	}
	return binary.BigEndian.AppendUint64(append(b, msgpcode.Int64), uint64(n))
}

// encoder remembers, while a batch's items are encoded into one buffer,
// the last encryption context it encoded, so that items that share one
// (the same map) copy its encoding instead of sorting it again. A nil
// encoder remembers nothing.
type encoder struct {
	last       unsafe.Pointer // the map
	start, end int            // its encoding, in the buffer
}

// appendStrMap is the package's appendStrMap, remembering.
func (e *encoder) appendStrMap(b []byte, m map[string]string) []byte {
	if e == nil || m == nil {
		return appendStrMap(b, m)
	}
	if p := *(*unsafe.Pointer)(unsafe.Pointer(&m)); p == e.last {
		return append(b, b[e.start:e.end]...)
	} else {
		e.last, e.start = p, len(b)
	}
	b = appendStrMap(b, m)
	e.end = len(b)
	return b
}

// appendStrMap writes a string map with its keys in ascending byte order,
// so that an encoding is a pure function of the map.
func appendStrMap(b []byte, m map[string]string) []byte {
	b = appendMapLen(b, len(m))
	var arr [MaxContextPairs]string
	keys := arr[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		b = appendStr(b, k)
		b = appendStr(b, m[k])
	}
	return b
}

func appendStrList(b []byte, l []string) []byte {
	b = appendArrayLen(b, len(l))
	for _, s := range l {
		b = appendStr(b, s)
	}
	return b
}

func sizeHintList[T any](l []T, hint func(*T) int) int {
	n := 5
	for i := range l {
		n += hint(&l[i])
	}
	return n
}
