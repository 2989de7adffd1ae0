package wire

import (
	"slices"
	"sync"
)

// appendWriter is the encoder's output: it appends to the frame being
// made, so a frame is encoded in place, with no buffer to copy from.
type appendWriter struct{ b []byte }

// grow makes room for n more bytes, doubling (append grows large slices
// by a quarter, which costs a large frame many copies).
func (w *appendWriter) grow(n int) {
	if len(w.b)+n > cap(w.b) {
		w.b = slices.Grow(w.b, max(n, cap(w.b)))
	}
}

func (w *appendWriter) Write(p []byte) (int, error) {
	w.grow(len(p))
	w.b = append(w.b, p...)
	return len(p), nil
}

func (w *appendWriter) WriteString(s string) (int, error) {
	w.grow(len(s))
	w.b = append(w.b, s...)
	return len(s), nil
}

func (w *appendWriter) WriteByte(c byte) error {
	w.grow(1)
	w.b = append(w.b, c)
	return nil
}

// sizeHint guesses a message's encoded size from its payload, so that a
// batch frame is allocated once.
func sizeHint(m Message) int {
	const fixed = 224 // field names, a key id, an algorithm, a key material id
	switch v := m.(type) {
	case *EncryptInput:
		return fixed + len(v.Plaintext) + 32*len(v.EncryptionContext)
	case *DecryptInput:
		return fixed + len(v.CiphertextBlob) + 32*len(v.EncryptionContext)
	case *ReEncryptInput:
		return fixed + len(v.CiphertextBlob) + 32*(len(v.SourceEncryptionContext)+len(v.DestinationEncryptionContext))
	case *EncryptOutput:
		return fixed + len(v.CiphertextBlob)
	case *DecryptOutput:
		return fixed + len(v.Plaintext)
	case *ReEncryptOutput:
		return fixed + len(v.CiphertextBlob)
	case *GenerateDataKeyOutput:
		return fixed + len(v.CiphertextBlob) + len(v.Plaintext)
	}
	return fixed
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
