package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Limits of the protocol. A peer may announce smaller ones in Hello.
const (
	// FrameHeaderSize is the size of the length prefix.
	FrameHeaderSize = 4
	// MaxFrame is the largest body a frame may carry: a batch of 4096
	// items of 32 bytes fits many times over, one of 4096 items of 4 KiB
	// does not and must be split.
	MaxFrame = 4 << 20
	// MaxBatchItems is the most items one batch request may carry.
	MaxBatchItems = 4096
	// MaxDepth is the deepest nesting of arrays and maps in a body.
	MaxDepth = 8
)

// ErrFrameTooLarge is returned for a length prefix above the maximum,
// before anything is allocated for the body.
var ErrFrameTooLarge = errors.New("frame too large")

// ReadFrame reads one frame: a 4-byte big-endian length and that many body
// bytes. The length is checked against max before the body is read; buf is
// reused if it is large enough. A zero length is an error.
func ReadFrame(r io.Reader, buf []byte, max int) ([]byte, error) {
	var hdr [FrameHeaderSize]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n == 0 {
		return nil, errors.New("empty frame")
	}
	if uint64(n) > uint64(max) {
		return nil, fmt.Errorf("%w: %d bytes, at most %d", ErrFrameTooLarge, n, max)
	}
	if cap(buf) < int(n) {
		buf = GetFrameBuffer(int(n))
	}
	buf = buf[:n]
	if _, err := io.ReadFull(r, buf); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return buf, nil
}

// AppendFrameHeader reserves a frame header at the end of dst; call
// FinishFrame once the body is appended after it.
func AppendFrameHeader(dst []byte) []byte { return append(dst, 0, 0, 0, 0) }

// FinishFrame writes the length of the body that follows the header at
// offset start.
func FinishFrame(frame []byte, start int) {
	binary.BigEndian.PutUint32(frame[start:], uint32(len(frame)-start-FrameHeaderSize))
}
