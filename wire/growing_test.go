package wire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"

	"kmsd/wire/api"
)

// trickle returns at most step bytes per read.
type trickle struct {
	r    io.Reader
	step int
}

func (t *trickle) Read(p []byte) (int, error) { return t.r.Read(p[:min(len(p), t.step)]) }

// TestBodyGrowing: a body read in small pieces into growing buffers is the
// body sent, for sizes around the buffers' steps; a stream that ends
// inside it is ErrUnexpectedEOF.
func TestBodyGrowing(t *testing.T) {
	for _, n := range []int{1, 100, growStart - 1, growStart, growStart + 1, 3*growStart + 7, MaxFrame} {
		body := bytes.Repeat([]byte{0x5a}, n)
		body[n-1] = 0xa5
		stream := append(binary.BigEndian.AppendUint32(nil, uint32(n)), body...)
		fr := NewFrameReader(&trickle{bytes.NewReader(stream), 40 << 10}, 8<<10, MaxFrame)
		if got, err := fr.Next(); err != nil || got != n {
			t.Fatalf("Next = %d, %v", got, err)
		}
		got, err := fr.BodyGrowing(nil)
		if err != nil || !bytes.Equal(got, body) {
			t.Fatalf("%d bytes: got %d bytes, %v", n, len(got), err)
		}
		if n >= BigFrame && cap(got) > 2*n+BigFrame {
			t.Errorf("%d bytes read into a buffer of %d", n, cap(got))
		}
		fr = NewFrameReader(bytes.NewReader(stream[:len(stream)-1]), 0, MaxFrame)
		fr.Next()
		if _, err := fr.BodyGrowing(nil); !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("%d bytes cut short: %v", n, err)
		}
	}
}

// holding is a source that says how many bytes it holds (as a ring or a
// read-ahead buffer does), and notes the reads asked of it.
type holding struct {
	r     *bytes.Reader
	hold  int // bytes it says it holds, at most what is left
	reads int
	first int // bytes the first read asked for
}

func (h *holding) Read(p []byte) (int, error) {
	if h.reads++; h.reads == 1 {
		h.first = len(p)
	}
	return h.r.Read(p)
}

func (h *holding) Buffered() int { return min(h.hold, h.r.Len()) }

// TestBodyGrowingTakesWhatIsHeld: a body its source holds whole is read
// into one buffer of its size, in one read; one the source holds little
// of is read into a buffer of growStart first, however large it was said
// to be.
func TestBodyGrowingTakesWhatIsHeld(t *testing.T) {
	n := 3*growStart + 7
	body := bytes.Repeat([]byte{0x5a}, n)
	for _, tc := range []struct {
		hold, first, reads int
	}{
		{hold: n, first: n, reads: 1},
		{hold: 1 << 10, first: growStart, reads: 3}, // 64 KiB, 64 more, the rest
	} {
		src := &holding{r: bytes.NewReader(body), hold: tc.hold}
		fr := &FrameReader{src: src, limit: MaxFrame, next: n}
		got, err := fr.BodyGrowing(nil)
		if err != nil || !bytes.Equal(got, body) {
			t.Fatalf("held %d: %d bytes, %v", tc.hold, len(got), err)
		}
		if src.first != tc.first || src.reads != tc.reads {
			t.Errorf("held %d: %d reads, the first of %d bytes; want %d, of %d", tc.hold, src.reads, src.first, tc.reads, tc.first)
		}
	}
}

// TestSkipKeepsTheHead: Skip reads past a frame, keeping its head, which
// RequestHead reads; the next frame reads as it was sent.
func TestSkipKeepsTheHead(t *testing.T) {
	big, _ := AppendBatchRequest(nil, 42, api.OpEncrypt, []api.Message{&api.EncryptInput{KeyId: "k", Plaintext: make([]byte, 100<<10)}})
	next, _ := AppendRequest(nil, 43, api.OpHello, &api.HelloInput{ProtocolVersion: 1})
	fr := NewFrameReader(bytes.NewReader(append(big, next...)), 8<<10, MaxFrame)
	if _, err := fr.Next(); err != nil {
		t.Fatal(err)
	}
	head, err := fr.Skip(make([]byte, 64))
	if err != nil || len(head) != 64 {
		t.Fatalf("Skip = %d bytes, %v", len(head), err)
	}
	req, err := RequestHead(head)
	if err != nil || req.ID != 42 || req.Type != TypeBatchRequest || req.Op == nil || req.Op.Name != api.OpEncrypt {
		t.Fatalf("RequestHead = %+v, %v", req, err)
	}
	body, err := fr.Read(nil)
	if err != nil || !bytes.Equal(body, next[FrameHeaderSize:]) {
		t.Fatalf("the frame after the skipped one: %v", err)
	}
	if _, err := RequestHead([]byte{0x94, 0x01}); err == nil {
		t.Error("a head without an id was read")
	}
}
