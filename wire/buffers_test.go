package wire

import (
	"testing"
	"unsafe"
)

// TestFrameBuffers: a buffer fits its frame, large ones come back from
// their size class wiped, and buffers not made here are not pooled.
func TestFrameBuffers(t *testing.T) {
	for _, n := range []int{1, BigFrame - 1, BigFrame, BigFrame + 1, 100 << 10, MaxFrame - 1, MaxFrame} {
		b := GetFrameBuffer(n)
		if len(b) != n {
			t.Fatalf("GetFrameBuffer(%d) has length %d", n, len(b))
		}
		if n >= BigFrame {
			if _, size := class(n); cap(b) != size || size < n || size > 2*n+BigFrame {
				t.Errorf("a buffer for %d bytes has capacity %d (class size %d)", n, cap(b), size)
			}
		}
		for i := range b {
			b[i] = 0xaa
		}
		PutFrameBuffer(b)
		for i, v := range b {
			if v != 0 {
				t.Fatalf("byte %d of a %d-byte buffer not wiped", i, n)
			}
		}
	}
	if c, size := class(MaxFrame); c != classes-1 || size != MaxFrame {
		t.Errorf("class(MaxFrame) = %d, %d; %d classes", c, size, classes)
	}
	odd := make([]byte, 3*BigFrame)
	PutFrameBuffer(odd) // wiped, not pooled: its class is 4 x BigFrame
	if b := GetFrameBuffer(3 * BigFrame); cap(b) != 4*BigFrame {
		t.Errorf("a buffer for 3 x BigFrame has capacity %d", cap(b))
	}
}

// TestKeptFrameBuffers: a buffer its reader keeps is of its frame's size
// when the pool has none of the class, a pooled one when it has, and
// such a buffer given back is wiped but not pooled.
func TestKeptFrameBuffers(t *testing.T) {
	if b := GetKeptFrameBuffer(BigFrame - 1); len(b) != BigFrame-1 {
		t.Fatalf("small kept buffer has length %d", len(b))
	}
	n := 5*BigFrame + 7 // class 8 x BigFrame
	for range 3 {       // drain what earlier tests left in the class
		if b := GetKeptFrameBuffer(n); cap(b) == n {
			break
		}
	}
	b := GetKeptFrameBuffer(n)
	if len(b) != n || cap(b) != n {
		t.Fatalf("kept buffer for %d bytes: length %d, capacity %d", n, len(b), cap(b))
	}
	b[0] = 0xaa
	PutFrameBuffer(b)
	if b[0] != 0 {
		t.Fatal("a kept buffer given back was not wiped")
	}
	pooled := GetFrameBuffer(n)
	PutFrameBuffer(pooled)
	if got := GetKeptFrameBuffer(n); cap(got) != cap(pooled) && cap(got) != n {
		t.Fatalf("kept buffer with one pooled: capacity %d, want the pool's %d or %d", cap(got), cap(pooled), n)
	}
}

// TestKeptBuffersFit: a buffer given back by PutKeptFrameBuffer is wiped
// whole, and reused only for a kept frame of its class that it holds
// (and so at least half fills); a small one is not kept.
func TestKeptBuffersFit(t *testing.T) {
	for _, tc := range []struct {
		have, want int
		reused     bool
	}{
		{have: 40000, want: 40000, reused: true},
		{have: 40000, want: 35000, reused: true},
		{have: 40000, want: 40001, reused: false},
		{have: 40000, want: 30000, reused: false}, // another class: kept for its own
		{have: 40000, want: 19000, reused: false},
		{have: 5000, want: 5000, reused: false}, // small: not kept
	} {
		// The pool may drop what is put in it (always, now and then,
		// under the race detector), so a reuse is looked for a few times.
		reused := false
		for range 16 {
			for k := range keptBuffers { // empty the pools of what other tries left
				for keptBuffers[k].Get() != nil {
				}
			}
			b := make([]byte, tc.have)
			b[tc.have-1] = 0xa5
			PutKeptFrameBuffer(b[:1])
			if b[tc.have-1] != 0 {
				t.Fatal("a kept buffer given back was not wiped whole")
			}
			got := GetKeptFrameBuffer(tc.want)
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
