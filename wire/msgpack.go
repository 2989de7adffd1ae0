package wire

import (
	"encoding/binary"
	"math"
	"slices"

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

// appendBin writes p as bin (nil as nil, as the Encoder does).
func appendBin(b, p []byte) []byte {
	if p == nil {
		return append(b, msgpcode.Nil)
	}
	switch n := len(p); {
	case n < 256:
		b = append(b, msgpcode.Bin8, byte(n))
	case n <= math.MaxUint16:
		b = binary.BigEndian.AppendUint16(append(b, msgpcode.Bin16), uint16(n))
	default:
		b = binary.BigEndian.AppendUint32(append(b, msgpcode.Bin32), uint32(n))
	}
	return append(b, p...)
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
