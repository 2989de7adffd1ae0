package wire

import "sync"

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
	// Room for a slightly larger frame next time, not twice: the memory of
	// a new buffer is zeroed, which costs as much as its use.
	return make([]byte, n, min(MaxFrame, (n+16<<10-1)&^(16<<10-1)))
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
