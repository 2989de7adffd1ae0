package wire

import (
	"encoding/binary"
	"fmt"
)

// Validate checks that body is exactly one msgpack value whose every
// declared length fits in the bytes that remain, whose arrays and maps are
// nested at most depth deep, and that holds no extension types or the
// unused code 0xc1. It allocates nothing.
//
// vmihailenco/msgpack allocates what a length prefix declares before
// reading it; once a body passes Validate, no declared length exceeds the
// body's own size, so decoding it costs at most a small multiple of its
// size.
func Validate(body []byte, depth int) error {
	n, err := validateValue(body, 0, depth)
	if err != nil {
		return err
	}
	if n != len(body) {
		return fmt.Errorf("msgpack: %d bytes after the value", len(body)-n)
	}
	return nil
}

func validateValue(b []byte, off, depth int) (int, error) {
	off, count, size, container, err := valueHeader(b, off)
	if err != nil {
		return 0, err
	}
	if !container {
		if len(b)-off < size {
			return 0, fmt.Errorf("msgpack: %d-byte value at byte %d exceeds the frame", size, off)
		}
		return off + size, nil
	}
	if depth <= 0 {
		return 0, fmt.Errorf("msgpack: nested deeper than %d", MaxDepth)
	}
	if count > len(b)-off { // every element takes at least one byte
		return 0, fmt.Errorf("msgpack: %d elements at byte %d exceed the frame", count, off)
	}
	for range count {
		if off, err = validateValue(b, off, depth-1); err != nil {
			return 0, err
		}
	}
	return off, nil
}

// valueHeader reads the type byte of the value at off and its length, if
// it has one. It returns where the value's payload begins, and either the
// elements of a container (maps count twice) or the bytes of a payload.
func valueHeader(b []byte, off int) (next, count, size int, container bool, err error) {
	if off >= len(b) {
		return 0, 0, 0, false, fmt.Errorf("msgpack: truncated at byte %d", off)
	}
	c := b[off]
	off++
	lenBytes := 0
	switch {
	case c <= 0x7f || c >= 0xe0: // positive and negative fixint
		return off, 0, 0, false, nil
	case c <= 0x8f: // fixmap
		return off, 2 * int(c&0x0f), 0, true, nil
	case c <= 0x9f: // fixarray
		return off, int(c & 0x0f), 0, true, nil
	case c <= 0xbf: // fixstr
		return off, 0, int(c & 0x1f), false, nil
	}
	switch c {
	case 0xc0, 0xc2, 0xc3: // nil, false, true
		return off, 0, 0, false, nil
	case 0xcc, 0xd0: // uint8, int8
		return off, 0, 1, false, nil
	case 0xcd, 0xd1:
		return off, 0, 2, false, nil
	case 0xca, 0xce, 0xd2: // float32, uint32, int32
		return off, 0, 4, false, nil
	case 0xcb, 0xcf, 0xd3: // float64, uint64, int64
		return off, 0, 8, false, nil
	case 0xc4, 0xd9: // bin8, str8
		lenBytes = 1
	case 0xc5, 0xda: // bin16, str16
		lenBytes = 2
	case 0xc6, 0xdb: // bin32, str32
		lenBytes = 4
	case 0xdc, 0xde: // array16, map16
		lenBytes, container = 2, true
	case 0xdd, 0xdf: // array32, map32
		lenBytes, container = 4, true
	default: // 0xc1, ext and fixext
		return 0, 0, 0, false, fmt.Errorf("msgpack: type byte %#x at %d is not allowed", c, off-1)
	}
	if len(b)-off < lenBytes {
		return 0, 0, 0, false, fmt.Errorf("msgpack: truncated length at byte %d", off)
	}
	var l uint64
	switch lenBytes {
	case 1:
		l = uint64(b[off])
	case 2:
		l = uint64(binary.BigEndian.Uint16(b[off:]))
	case 4:
		l = uint64(binary.BigEndian.Uint32(b[off:]))
	}
	if l > uint64(len(b)) { // cheap bound before any arithmetic
		return 0, 0, 0, false, fmt.Errorf("msgpack: length %d at byte %d exceeds the frame", l, off-1)
	}
	off += lenBytes
	switch {
	case !container:
		return off, 0, int(l), false, nil
	case c == 0xde || c == 0xdf:
		return off, 2 * int(l), 0, true, nil
	}
	return off, int(l), 0, true, nil
}
