package client

import (
	"math/bits"
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
	if c := keptClass(cap(b)); c >= 0 {
		keptFrames[c].Put(&b)
	}
}

// keptFrames hold released answer buffers, wiped, by size class: class c
// holds those of wire.BigFrame<<c bytes or more, less than twice that.
// They are made to the size of the answer they first held, not to the
// class's, since a batch whose results are kept keeps its buffer; one is
// reused for an answer of its class that fits in it, which fills at
// least half of it. A batch of many items comes as frames of two sizes
// (the full ones and the rest): the classes keep them apart.
var keptFrames [keptClasses]sync.Pool

const keptClasses = 10 // up to wire.BigFrame<<10 = 16 MiB, past wire.MaxFrame

// keptClass is the class of a buffer of n bytes, or -1 if none holds it.
func keptClass(n int) int {
	c := bits.Len(uint(n/wire.BigFrame)) - 1
	if c >= keptClasses {
		return -1
	}
	return c
}

// keptFrameBuffer is a buffer of n bytes for an answer whose results may
// refer into it: a released one of its class if one fits, else a new one.
func keptFrameBuffer(n int) []byte {
	c := keptClass(n)
	if c < 0 {
		return wire.GetKeptFrameBuffer(n)
	}
	if p, ok := keptFrames[c].Get().(*[]byte); ok {
		if b := *p; cap(b) >= n {
			return b[:n]
		}
		keptFrames[c].Put(p) // a smaller one of the class: for a smaller answer
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
