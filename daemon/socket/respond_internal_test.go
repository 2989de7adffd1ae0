package socket

import (
	"bytes"
	"testing"
)

// TestAfter: what is left of a frame in parts once the socket took its
// first n bytes, at every n, is the frame's bytes from n on, in order,
// with no empty piece.
func TestAfter(t *testing.T) {
	f := outFrame{b: []byte("head"), more: [][]byte{[]byte("one"), {}, []byte("three")}}
	whole := []byte("headonethree")
	if f.size() != len(whole) {
		t.Fatalf("size %d, want %d", f.size(), len(whole))
	}
	for n := 0; n <= len(whole); n++ {
		rest := after(&f, n)
		var got []byte
		for _, p := range rest {
			if len(p) == 0 {
				t.Fatalf("after %d: an empty piece in %q", n, rest)
			}
			got = append(got, p...)
		}
		if !bytes.Equal(got, whole[n:]) {
			t.Fatalf("after %d: %q, want %q", n, got, whole[n:])
		}
	}
}

// TestRelease: a frame's pieces are wiped once written, but for a public
// answer's parts (ciphertext only), and done is called either way.
func TestRelease(t *testing.T) {
	for _, public := range []bool{false, true} {
		head, part := []byte("head"), []byte("secret")
		called := false
		outFrame{b: head, more: [][]byte{part}, public: public, done: func() { called = true }}.release()
		if !bytes.Equal(head, make([]byte, 4)) {
			t.Errorf("public %v: the head is not wiped: %q", public, head)
		}
		if wiped := bytes.Equal(part, make([]byte, 6)); wiped == public {
			t.Errorf("public %v: part wiped %v", public, wiped)
		}
		if !called {
			t.Errorf("public %v: done not called", public)
		}
	}
}
