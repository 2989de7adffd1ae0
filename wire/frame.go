package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
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

// bigBuffers holds frame buffers too large to keep per connection, shared
// by all of them: the garbage collector frees those not used for two
// cycles, so a burst of large frames leaves nothing behind.
var bigBuffers sync.Pool

// BigFrame is the size from which a frame buffer is taken from, and given
// back to, the shared pool (GetFrameBuffer, PutFrameBuffer).
const BigFrame = 64 << 10

// GetFrameBuffer returns a buffer of length n for a frame body: a shared
// one for a large frame (its old bytes were wiped by PutFrameBuffer), a
// new one otherwise.
func GetFrameBuffer(n int) []byte {
	if n >= BigFrame {
		if p, ok := bigBuffers.Get().(*[]byte); ok && cap(*p) >= n {
			return (*p)[:n]
		} else if ok {
			bigBuffers.Put(p)
		}
	}
	return make([]byte, n, max(n, min(2*n, MaxFrame)))
}

// PutFrameBuffer wipes b[:len(b)] (it may hold plaintext; what lies
// beyond it must have been wiped already) and, if b is large, gives it to
// the shared pool.
func PutFrameBuffer(b []byte) {
	clear(b)
	if cap(b) >= BigFrame {
		b = b[:0]
		bigBuffers.Put(&b)
	}
}
