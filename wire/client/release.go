package client

import (
	"sync/atomic"

	"kmsd/wire"
)

// frame is the buffer an explicit batch's answer frame was read into
// (wire.GetKeptFrameBuffer): the byte slices of the frame's results refer
// into it, so it stays theirs until Release gives it back.
type frame struct {
	buf   []byte
	given atomic.Bool
}

// give wipes the frame's buffer (it may hold plaintext: Decrypt's, data
// keys') and gives it back for the next answers; only the first call for
// a frame does anything, so a frame whose results are released twice, or
// from two goroutines, is never handed out twice.
func (f *frame) give() {
	if f == nil || !f.given.CompareAndSwap(false, true) {
		return
	}
	b := f.buf
	f.buf = nil
	wire.PutKeptFrameBuffer(b)
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
