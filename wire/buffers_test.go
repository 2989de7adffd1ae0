package wire

import "testing"

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
