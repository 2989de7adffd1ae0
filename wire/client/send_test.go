package client

import (
	"bytes"
	"testing"
)

// TestOutPiecesKeepOrder: a pass's write is its encoded calls and the
// frames queued already encoded, in the order they were queued, with the
// frames as pieces of their own (not copied) and no empty pieces.
func TestOutPiecesKeepOrder(t *testing.T) {
	for _, tc := range []struct {
		name string
		buf  string
		cuts []int
		raw  []string
		want []string
	}{
		{"one frame alone", "", []int{0}, []string{"F"}, []string{"F"}},
		{"calls only", "abc", nil, nil, []string{"abc"}},
		{"frame first", "abc", []int{0}, []string{"F"}, []string{"F", "abc"}},
		{"frame between", "abcd", []int{2}, []string{"F"}, []string{"ab", "F", "cd"}},
		{"frame last", "abc", []int{3}, []string{"F"}, []string{"abc", "F"}},
		{"frames together", "ab", []int{1, 1, 2}, []string{"F", "G", "H"}, []string{"a", "F", "G", "b", "H"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var o outPieces
			o.reset()
			for i, at := range tc.cuts {
				o.add(at, []byte(tc.raw[i]))
			}
			got := o.vector([]byte(tc.buf))
			if len(got) != len(tc.want) {
				t.Fatalf("pieces %q, want %q", got, tc.want)
			}
			for i := range got {
				if string(got[i]) != tc.want[i] {
					t.Fatalf("pieces %q, want %q", got, tc.want)
				}
			}
			for i, at := range tc.cuts {
				if !slicesShare(got, o.raw[i]) {
					t.Errorf("frame %d (at %d) was copied, not written as it is", i, at)
				}
			}
		})
	}
}

// slicesShare reports whether one of pieces is p itself (same memory).
func slicesShare(pieces [][]byte, p []byte) bool {
	for _, q := range pieces {
		if len(q) == len(p) && len(q) > 0 && &q[0] == &p[0] {
			return true
		}
	}
	return bytes.Equal(p, nil)
}
