package wire

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// ProtocolVersion is the version of the protocol this package speaks; a
// client sends it in Hello and the server answers with its own.
const ProtocolVersion = 1

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

// ErrEmptyFrame is returned for a length prefix of zero.
var ErrEmptyFrame = errors.New("empty frame")

// FrameReader reads frames from a stream: [FrameReader.Next] reads a
// length prefix and checks it, [FrameReader.Body] reads the body it
// announced into a buffer the caller provides. A caller can so decide
// what a frame may cost (deadlines, budgets) between the two, before
// anything is allocated for it; [FrameReader.Read] does both at once.
type FrameReader struct {
	br    *bufio.Reader // nil: read src as it is
	src   io.Reader
	limit int
	next  int // the body length Next announced; -1 when none is pending
}

// NewFrameReader reads frames of at most limit bytes from r, through a
// read-ahead buffer of size bytes (none if size is 0).
func NewFrameReader(r io.Reader, size, limit int) *FrameReader {
	f := &FrameReader{src: r, limit: limit, next: -1}
	if size > 0 {
		f.br = bufio.NewReaderSize(r, size)
		f.src = f.br
	}
	return f
}

// Next reads the length prefix of the next frame and returns its body
// length, 1 to limit. A length of 0 is ErrEmptyFrame and one above limit
// ErrFrameTooLarge; the stream cannot be read on after either.
func (f *FrameReader) Next() (int, error) {
	var hdr [FrameHeaderSize]byte
	if _, err := io.ReadFull(f.src, hdr[:]); err != nil {
		return 0, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n == 0 {
		return 0, ErrEmptyFrame
	}
	if uint64(n) > uint64(f.limit) {
		return 0, fmt.Errorf("%w: %d bytes, at most %d", ErrFrameTooLarge, n, f.limit)
	}
	f.next = int(n)
	return f.next, nil
}

// Body reads the body Next announced into buf, which must hold it, and
// returns it. A stream that ends inside it is io.ErrUnexpectedEOF.
func (f *FrameReader) Body(buf []byte) ([]byte, error) {
	if f.next < 0 {
		return nil, errors.New("wire: Body without Next")
	}
	body := buf[:f.next]
	f.next = -1
	if _, err := io.ReadFull(f.src, body); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return body, nil
}

// growStart is the first buffer BodyGrowing reads a large body into.
const growStart = 64 << 10

// BodyGrowing reads the body Next announced, into buf if it holds it, else
// into buffers from GetFrameBuffer that grow (doubling) as the bytes
// arrive: a sender that announces a large frame and stalls has cost what
// it sent, not what it announced. What the source holds already (a
// read-ahead buffer's bytes, a shared-memory ring's) has been sent: each
// buffer is made large enough for it at once, so that a frame that is
// all there is read in one copy. The buffers outgrown are wiped and given
// back.
func (f *FrameReader) BodyGrowing(buf []byte) ([]byte, error) {
	n := f.next
	if n < 0 {
		return nil, errors.New("wire: Body without Next")
	}
	if cap(buf) >= n {
		return f.Body(buf)
	}
	f.next = -1
	body := GetFrameBuffer(min(n, max(growStart, f.held())))[:0]
	for len(body) < n {
		if len(body) == cap(body) {
			bigger := GetFrameBuffer(min(n, max(2*cap(body), len(body)+f.held())))[:len(body)]
			copy(bigger, body)
			PutFrameBuffer(body)
			body = bigger
		}
		m, err := io.ReadAtLeast(f.src, body[len(body):min(n, cap(body))], 1)
		body = body[:len(body)+m]
		if err != nil {
			PutFrameBuffer(body)
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
	}
	return body, nil
}

// held is how many bytes the source holds that have not been read: sent,
// and in memory already.
func (f *FrameReader) held() int {
	if b, ok := f.src.(interface{ Buffered() int }); ok {
		return b.Buffered()
	}
	return 0
}

// Skip reads the body Next announced, keeping only its first bytes, up
// to len(prefix), which it returns: what a reader needs to answer a frame
// it will not serve (its id), at no cost for the rest.
func (f *FrameReader) Skip(prefix []byte) ([]byte, error) {
	n := f.next
	if n < 0 {
		return nil, errors.New("wire: Skip without Next")
	}
	f.next = -1
	head := prefix[:min(n, len(prefix))]
	if _, err := io.ReadFull(f.src, head); err != nil {
		return nil, unexpected(err)
	}
	if _, err := io.CopyN(io.Discard, f.src, int64(n-len(head))); err != nil {
		return nil, unexpected(err)
	}
	return head, nil
}

// unexpected is err, with an end of the stream inside a frame said so.
func unexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// Read reads a whole frame and returns its body: in buf if it is large
// enough, else in a buffer from GetFrameBuffer.
func (f *FrameReader) Read(buf []byte) ([]byte, error) {
	n, err := f.Next()
	if err != nil {
		return nil, err
	}
	if cap(buf) < n {
		buf = GetFrameBuffer(n)
	}
	return f.Body(buf[:n])
}

// Buffered reports how many bytes of what follows are already read ahead
// (0 when the next frame has not begun to arrive).
func (f *FrameReader) Buffered() int {
	if f.br == nil {
		return 0
	}
	return f.br.Buffered()
}

// ReadFrame reads one frame from r, unbuffered: see FrameReader.Read.
func ReadFrame(r io.Reader, buf []byte, limit int) ([]byte, error) {
	return NewFrameReader(r, 0, limit).Read(buf)
}

// AppendFrameHeader reserves a frame header at the end of dst; call
// FinishFrame once the body is appended after it.
func AppendFrameHeader(dst []byte) []byte { return append(dst, 0, 0, 0, 0) }

// FinishFrame writes the length of the body that follows the header at
// offset start.
func FinishFrame(frame []byte, start int) {
	binary.BigEndian.PutUint32(frame[start:], uint32(len(frame)-start-FrameHeaderSize))
}
