package client

import (
	"testing"
	"unsafe"
)

// TestFrameGivenOnce: a frame given back twice (its results released
// twice, or from two goroutines) goes back to the pool once, so no two
// later answers are read into the same memory; and it is wiped whole.
func TestFrameGivenOnce(t *testing.T) {
	buf := make([]byte, 20000, 24000)
	for i := range buf[:cap(buf)] {
		buf[:cap(buf)][i] = 0xa5
	}
	f := &frame{buf: buf}
	f.give()
	f.give()
	for i, c := range buf[:cap(buf)] {
		if c != 0 {
			t.Fatalf("byte %d of a given frame is %#x, not wiped", i, c)
		}
	}
	seen := map[unsafe.Pointer]bool{}
	for range 4 {
		p, ok := keptFrames[keptClass(cap(buf))].Get().(*[]byte)
		if !ok {
			break
		}
		at := unsafe.Pointer(unsafe.SliceData(*p))
		if seen[at] {
			t.Fatal("one frame's buffer is in the pool twice")
		}
		seen[at] = true
	}
	var none *frame
	none.give() // results of a frame refused whole have none
}

// TestKeptFrameBufferFits: a released buffer is reused only for an
// answer of its size class that it holds (and so at least half fills).
func TestKeptFrameBufferFits(t *testing.T) {
	for _, tc := range []struct {
		have, want int
		reused     bool
	}{
		{have: 40000, want: 40000, reused: true},
		{have: 40000, want: 35000, reused: true},
		{have: 40000, want: 40001, reused: false},
		{have: 40000, want: 30000, reused: false}, // another class: kept for its own
		{have: 40000, want: 19000, reused: false},
		{have: 5000, want: 5000, reused: false}, // small: not pooled
	} {
		// The pool may drop what is put in it (always, now and then,
		// under the race detector), so a reuse is looked for a few times.
		reused := false
		for range 16 {
			for c := range keptFrames { // empty the pools of what other tries left
				for keptFrames[c].Get() != nil {
				}
			}
			b := make([]byte, tc.have)
			putKept(b)
			got := keptFrameBuffer(tc.want)
			if len(got) != tc.want {
				t.Fatalf("%d bytes asked, %d given", tc.want, len(got))
			}
			if reused = unsafe.SliceData(got) == unsafe.SliceData(b); reused {
				break
			}
		}
		if reused != tc.reused {
			t.Errorf("a %d-byte buffer for %d bytes: reused %v, want %v", tc.have, tc.want, reused, tc.reused)
		}
	}
}
