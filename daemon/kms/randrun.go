package kms

import (
	"crypto/rand"
	"fmt"
)

// randRun hands out bytes read from crypto/rand a buffer at a time, so
// that a batch of data keys costs one read (one getrandom system call)
// per randRunBytes, not one per key: on a VM a system call costs about as
// much as sealing a small key (BenchmarkGenerateDataKeyBatch, batches of
// 256 AES_256 keys on one core of a 2-vCPU VM: 300 → 253 ns a key). Each key's bytes are fresh from crypto/rand
// and given out once; the caller wipes a key's bytes when done with them,
// and wipe clears what is left. A randRun lives on its caller's stack for
// one batch.
type randRun struct {
	buf [randRunBytes]byte
	off int // bytes given out of buf since it was last filled
	end int // bytes of buf filled
}

// randRunBytes is how much one read of crypto/rand brings at most; it
// holds the largest data key (MaxDataKeyBytes).
const randRunBytes = 2048

// take returns n fresh bytes (n ≤ MaxDataKeyBytes). When it must read,
// it reads enough for want bytes (the keys the batch still needs, n at
// least), up to randRunBytes: a lone key costs a read of its own size.
func (r *randRun) take(n, want int) ([]byte, error) {
	if n > len(r.buf) {
		return nil, fmt.Errorf("%d random bytes asked at once, at most %d", n, len(r.buf))
	}
	if r.end-r.off < n {
		clear(r.buf[r.off:r.end]) // what was read and not given out
		r.off, r.end = 0, min(len(r.buf), max(n, want))
		if _, err := rand.Read(r.buf[:r.end]); err != nil {
			r.end = 0
			return nil, err
		}
	}
	p := r.buf[r.off : r.off+n : r.off+n]
	r.off += n
	return p, nil
}

// wipe clears what was read and not given out.
func (r *randRun) wipe() {
	clear(r.buf[r.off:r.end])
	r.off, r.end = 0, 0
}
