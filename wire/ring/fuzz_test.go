package ring

import (
	"errors"
	"os"
	"testing"
	"time"
)

// FuzzPeerIndexes lets a peer put any head and tail in the area (and any
// sleep and asleep-for-room flags) before kmsd's side reads and writes: it either works
// within the ring's bounds or reports ErrCorrupt, and never reads or
// writes outside the area (which would fault).
func FuzzPeerIndexes(f *testing.F) {
	f.Add(uint64(0), uint64(0), uint64(0), uint64(0), uint32(0), 10)
	f.Add(uint64(MinSize), uint64(0), uint64(0), uint64(0), uint32(1), 100)
	f.Add(uint64(MinSize+1), uint64(0), uint64(0), uint64(0), uint32(7), 1)
	f.Add(uint64(5), uint64(10), uint64(3), uint64(0), uint32(0), MinSize)
	f.Add(uint64(1<<63), uint64(1<<63-1), uint64(1<<64-1), uint64(1<<64-MinSize), uint32(1<<31), 4096)
	f.Add(uint64(MinSize-1), uint64(2*MinSize), uint64(MinSize), uint64(2*MinSize), uint32(1), 5000)
	f.Fuzz(func(t *testing.T, head, rtail, tail, whead uint64, flags uint32, n int) {
		srv, _ := pair(t, MinSize)
		srv.in.head.Store(head)
		srv.rtail = rtail
		srv.out.tail.Store(tail)
		srv.whead = whead
		srv.in.sleep.Store(flags)
		srv.out.sleep.Store(flags)
		srv.in.space.Store(flags) // the peer's writer asks to be rung for room
		srv.out.space.Store(flags)
		n = min(max(n, 1), 2*MinSize)
		srv.SetReadDeadline(time.Now())
		srv.SetWriteDeadline(time.Now())
		if b := srv.Buffered(); b < 0 || b > MinSize {
			t.Fatalf("Buffered %d", b)
		}
		got, err := srv.Read(make([]byte, n))
		if err == nil && (got < 1 || got > min(n, MinSize)) {
			t.Fatalf("Read %d of %d", got, n)
		}
		okRead := err == nil || errors.Is(err, ErrCorrupt) || isDeadline(err)
		wrote, err := srv.Write(make([]byte, n))
		if wrote < 0 || wrote > MinSize {
			t.Fatalf("Write %d", wrote)
		}
		if !okRead || !(err == nil || errors.Is(err, ErrCorrupt) || isDeadline(err)) {
			t.Fatalf("unexpected error: %v", err)
		}
		srv.TryWritev([][]byte{make([]byte, n)})
	})
}

func isDeadline(err error) bool { return errors.Is(err, os.ErrDeadlineExceeded) }
