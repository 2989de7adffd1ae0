package client

import (
	"bytes"
	"testing"
	"time"

	"kmsd/wire/api"
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

// TestWindowHoldsCalls: while windowFrames frames of calls of a batchable
// operation await their answers, a pass of such calls is held back and
// gathers the calls queued meanwhile; an answer lets it go. Calls of other
// operations, and a connection that does not coalesce, are never held.
func TestWindowHoldsCalls(t *testing.T) {
	enc, create := api.Lookup("Encrypt"), api.Lookup("CreateKey")
	if enc == nil || create == nil || !enc.Batch || create.Batch {
		t.Fatal("the test needs Encrypt batchable and CreateKey not")
	}
	newConn := func(most int) *clientConn {
		return &clientConn{pending: map[uint64]pendingReq{}, max: most, sendq: make(chan *call, 16),
			room: make(chan struct{}, 1), dead: make(chan struct{})}
	}
	frame := pendingReq{op: enc, calls: []*call{{op: enc}, {op: enc}}}

	cc := newConn(256)
	id := uint64(100)
	for range windowFrames - 1 {
		id++
		cc.addPending(id, frame)
	}
	cc.addPending(1, pendingReq{op: create, calls: []*call{{op: create}}}) // not counted
	if got := cc.window([]*call{{op: enc}}); len(got) != 1 {
		t.Fatalf("held with %d frames of batchable calls in flight: %d calls", windowFrames-1, len(got))
	}
	cc.addPending(2, frame)
	if got := cc.window([]*call{{op: enc}, {op: create}}); len(got) != 2 {
		t.Fatal("a pass with a call that cannot be batched was held")
	}
	done := make(chan []*call)
	go func() { done <- cc.window([]*call{{op: enc}}) }()
	cc.sendq <- &call{op: enc}
	select {
	case got := <-done:
		t.Fatalf("not held with %d frames in flight: %d calls", windowFrames, len(got))
	case <-time.After(50 * time.Millisecond):
	}
	cc.mu.Lock()
	cc.takePending(2)
	cc.mu.Unlock()
	if got := <-done; len(got) != 2 {
		t.Fatalf("after an answer the pass has %d calls, want 2 (the one queued meanwhile)", len(got))
	}

	one := newConn(1)
	for i := range uint64(windowFrames) {
		one.addPending(i, frame)
	}
	if got := one.window([]*call{{op: enc}}); len(got) != 1 {
		t.Fatal("a connection that does not coalesce was held")
	}
}
