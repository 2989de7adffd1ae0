package wire

import (
	"math/bits"
	"sync"
)

// BigFrame is the size from which a frame buffer is taken from, and given
// back to, the shared pools (GetFrameBuffer, PutFrameBuffer): a batch's
// frame, which goes with its items and is not kept by a connection.
const BigFrame = 16 << 10

// The shared buffers are pooled by size class, BigFrame times a power of
// two up to MaxFrame: a buffer is made as large as its class, so that any
// frame of the class fits in it. The garbage collector frees buffers not
// used for two cycles, so a burst of large frames leaves nothing behind.
var (
	classes    = bits.Len(uint(MaxFrame/BigFrame-1)) + 1
	bigBuffers = make([]sync.Pool, classes)
)

// class is the size class of a buffer of n >= BigFrame bytes, and its size.
func class(n int) (int, int) {
	c := bits.Len(uint((n - 1) / BigFrame))
	return c, BigFrame << c
}

// GetFrameBuffer returns a buffer of length n for a frame body: a shared
// one for a large frame (its old bytes were wiped by PutFrameBuffer), a
// new one otherwise.
func GetFrameBuffer(n int) []byte {
	if n < BigFrame {
		// Room for a slightly larger frame next time (a connection keeps
		// its small buffer), not more: new memory is zeroed, which costs
		// as much as its use.
		return make([]byte, n, min(BigFrame-1, (n+4<<10-1)&^(4<<10-1)))
	}
	c, size := class(min(n, MaxFrame))
	if p, ok := bigBuffers[c].Get().(*[]byte); ok {
		return (*p)[:n]
	}
	return make([]byte, n, max(n, size))
}

// GetKeptFrameBuffer is GetFrameBuffer for a frame its reader will give
// away rather than back (a batch answer whose results refer into it): a
// buffer PutKeptFrameBuffer took back if one of its kept class holds it,
// else a shared one of its class; with neither free, it makes one of
// exactly n bytes, not of the class's size, since it may not come back
// to fill the class again.
func GetKeptFrameBuffer(n int) []byte {
	if n < BigFrame {
		return GetFrameBuffer(n)
	}
	if k := keptClass(n); k >= 0 {
		if p, ok := keptBuffers[k].Get().(*[]byte); ok {
			if b := *p; cap(b) >= n {
				return b[:n]
			}
			keptBuffers[k].Put(p) // a smaller one of the class: for a smaller frame
		}
	}
	c, _ := class(min(n, MaxFrame))
	if p, ok := bigBuffers[c].Get().(*[]byte); ok {
		return (*p)[:n]
	}
	return make([]byte, n)
}

// PutKeptFrameBuffer takes back a buffer GetKeptFrameBuffer gave, once
// nothing refers into it (a batch's results released): it wipes all of
// it, whatever it held, and keeps it, if large, for a later kept frame.
func PutKeptFrameBuffer(b []byte) {
	clear(b[:cap(b)])
	if k := keptClass(cap(b)); k >= 0 {
		keptBuffers[k].Put(&b)
	}
}

// keptBuffers hold the buffers PutKeptFrameBuffer took back, by kept
// class: class k holds those of BigFrame<<k bytes or more, less than
// twice that. Made to the size of the frame they first held, they are
// reused for a frame of their class that fits, which fills at least half
// of one; a batch of many items comes as frames of two sizes (the full
// ones and the rest), which the classes keep apart.
var keptBuffers = make([]sync.Pool, classes)

// keptClass is the kept class of a buffer of n bytes, or -1 if none.
func keptClass(n int) int {
	k := bits.Len(uint(n/BigFrame)) - 1
	if k < 0 || k >= classes {
		return -1
	}
	return k
}

// PutFrameBuffer wipes b[:len(b)] (it may hold plaintext; what lies
// beyond it must have been wiped already) and, if b is large, gives it to
// the shared pool of its size class.
func PutFrameBuffer(b []byte) {
	clear(b)
	if cap(b) < BigFrame || cap(b) > MaxFrame {
		return
	}
	c, size := class(cap(b))
	if cap(b) != size {
		return // not made by GetFrameBuffer: its class would not fit it
	}
	b = b[:0]
	bigBuffers[c].Put(&b)
}
