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
	if off >= len(b) {
		return 0, fmt.Errorf("msgpack: truncated at byte %d", off)
	}
	c := b[off]
	off++
	var count, size int // elements of a container (maps count twice), or bytes of a payload
	container := false
	switch {
	case c <= 0x7f || c >= 0xe0: // positive and negative fixint
		return off, nil
	case c <= 0x8f: // fixmap
		count, container = 2*int(c&0x0f), true
	case c <= 0x9f: // fixarray
		count, container = int(c&0x0f), true
	case c <= 0xbf: // fixstr
		size = int(c & 0x1f)
	default:
		var lenBytes int
		switch c {
		case 0xc0, 0xc2, 0xc3: // nil, false, true
			return off, nil
		case 0xc4, 0xd9: // bin8, str8
			lenBytes = 1
		case 0xc5, 0xda: // bin16, str16
			lenBytes = 2
		case 0xc6, 0xdb: // bin32, str32
			lenBytes = 4
		case 0xcc, 0xd0: // uint8, int8
			size = 1
		case 0xcd, 0xd1:
			size = 2
		case 0xca, 0xce, 0xd2: // float32, uint32, int32
			size = 4
		case 0xcb, 0xcf, 0xd3: // float64, uint64, int64
			size = 8
		case 0xdc: // array16
			lenBytes, container = 2, true
		case 0xdd: // array32
			lenBytes, container = 4, true
		case 0xde: // map16
			lenBytes, container = 2, true
		case 0xdf: // map32
			lenBytes, container = 4, true
		default: // 0xc1, ext and fixext
			return 0, fmt.Errorf("msgpack: type byte %#x at %d is not allowed", c, off-1)
		}
		if lenBytes > 0 {
			if len(b)-off < lenBytes {
				return 0, fmt.Errorf("msgpack: truncated length at byte %d", off)
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
			off += lenBytes
			if l > uint64(len(b)) { // cheap bound before any arithmetic
				return 0, fmt.Errorf("msgpack: length %d at byte %d exceeds the frame", l, off-lenBytes-1)
			}
			switch {
			case !container:
				size = int(l)
			case c == 0xde || c == 0xdf:
				count = 2 * int(l)
			default:
				count = int(l)
			}
		}
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
	var err error
	for range count {
		if off, err = validateValue(b, off, depth-1); err != nil {
			return 0, err
		}
	}
	return off, nil
}
