package client

import (
	"sync"
	"sync/atomic"

	"kmsd/wire"
)

// frame is the buffer an explicit batch's answer frame was read into:
// the byte slices of the frame's results refer into it, so it stays
// theirs until Release gives it back.
type frame struct {
	buf   []byte
	given atomic.Bool
}

// give wipes the frame's buffer (it may hold plaintext: Decrypt's, data
// keys') and keeps it for the next batch answer; only the first call for
// a frame does anything, so a frame whose results are released twice, or
// from two goroutines, is never handed out twice.
func (f *frame) give() {
	if f == nil || !f.given.CompareAndSwap(false, true) {
		return
	}
	b := f.buf
	f.buf = nil
	putKept(b)
}

// putKept wipes b whole and, if it is large, keeps it for a later answer.
func putKept(b []byte) {
	clear(b[:cap(b)])
	if cap(b) >= wire.BigFrame {
		keptFrames.Put(&b)
	}
}

// keptFrames holds released batch answer buffers, wiped. They are made to
// the size of the answer they first held, not to a pool class, since a
// batch whose results are kept keeps its buffer; one is reused for an
// answer that fills at least half of it.
var keptFrames sync.Pool

// keptFrameBuffer is a buffer of n bytes for a batch answer whose results
// will refer into it: a released one if one fits, else a new one.
func keptFrameBuffer(n int) []byte {
	if n < wire.BigFrame {
		return wire.GetKeptFrameBuffer(n)
	}
	if p, ok := keptFrames.Get().(*[]byte); ok {
		if b := *p; cap(b) >= n && cap(b) <= 2*n {
			return b[:n]
		}
		keptFrames.Put(p) // for another size; let the collector decide
	}
	return wire.GetKeptFrameBuffer(n)
}

// Release gives back the memory behind the results of one batch call
// (EncryptBatch, DecryptBatch, ...): the buffers their byte slices share,
// wiped at once, to be reused for later answers. It is for callers that
// make many batch calls and have done with each call's results before the
// next: after Release, the results' Out fields are nil, and any byte
// slice taken from them (a ciphertext, a plaintext, a data key) reads
// zeros or another batch's bytes. Copy out what must be kept first.
// Calling it again on the same results does nothing; without it, the
// garbage collector frees the buffers once no result is reachable.
func Release[Out any](results []BatchResult[Out]) {
	for i := range results {
		results[i].frame.give()
		results[i].Out, results[i].frame = nil, nil
	}
}
