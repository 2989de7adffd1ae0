package client

import (
	"testing"
	"unsafe"

	"kmsd/wire"
)

// TestFrameGivenOnce: a frame given back twice (its results released
// twice, or from two goroutines) goes back once, so no two later answers
// are read into the same memory; and it is wiped whole.
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
		at := unsafe.Pointer(unsafe.SliceData(wire.GetKeptFrameBuffer(20000)))
		if seen[at] {
			t.Fatal("one frame's buffer was handed out twice")
		}
		seen[at] = true
	}
	var none *frame
	none.give() // results of a frame refused whole have none
}
