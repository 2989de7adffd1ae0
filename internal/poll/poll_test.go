package poll

import (
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// pair is a connected pair of Unix sockets.
func pair(t testing.TB) (*net.UnixConn, *net.UnixConn) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "s")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(); s.Close() })
	return c.(*net.UnixConn), s.(*net.UnixConn)
}

func TestReadsWhatArrivesWhilePolling(t *testing.T) {
	for _, tc := range []struct {
		name   string
		window time.Duration
		want   func() bool
	}{
		{"polls", time.Second, nil},
		{"declined", time.Second, func() bool { return false }},
		{"no window", 0, nil},
		{"window passes", time.Microsecond, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := pair(t)
			r := NewReader(a, tc.window, tc.want, NewLimit(1))
			go func() {
				time.Sleep(2 * time.Millisecond)
				b.Write([]byte("answer"))
			}()
			buf := make([]byte, 16)
			n, err := r.Read(buf)
			if err != nil || string(buf[:n]) != "answer" {
				t.Fatalf("Read = %q, %v", buf[:n], err)
			}
		})
	}
}

func TestEndAndDeadline(t *testing.T) {
	a, b := pair(t)
	r := NewReader(a, time.Second, nil, NewLimit(1))
	b.Write([]byte("x"))
	b.Close()
	buf := make([]byte, 4)
	if n, err := r.Read(buf); n != 1 || err != nil {
		t.Fatalf("first Read = %d, %v", n, err)
	}
	if _, err := r.Read(buf); !errors.Is(err, io.EOF) {
		t.Fatalf("Read after the peer closed = %v, want EOF", err)
	}

	c, _ := pair(t)
	r = NewReader(c, time.Second, nil, NewLimit(1))
	c.SetReadDeadline(time.Now().Add(-time.Second))
	if _, err := r.Read(buf); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Read past the deadline = %v, want ErrDeadlineExceeded", err)
	}
}

func TestLimit(t *testing.T) {
	l := NewLimit(2)
	for i := range 2 {
		if !l.take() {
			t.Fatalf("a limit of 2 refused poller %d", i+1)
		}
	}
	if l.take() {
		t.Fatal("a limit of 2 let a third poller in")
	}
	l.give()
	if !l.take() {
		t.Fatal("a place given back was not taken again")
	}
	if NewLimit(0).most.Load() != 1 {
		t.Fatal("a limit below one does not allow one poller")
	}
}

// TestDeadlineHoldsWithDataWaiting: as with net.Conn.Read, a Read past
// the connection's deadline fails even with data waiting, polling or not.
func TestDeadlineHoldsWithDataWaiting(t *testing.T) {
	a, b := pair(t)
	b.Write([]byte("x"))
	time.Sleep(time.Millisecond)
	a.SetReadDeadline(time.Now().Add(-time.Second))
	r := NewReader(a, time.Second, nil, NewLimit(1))
	if _, err := r.Read(make([]byte, 4)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Read = %v, want the deadline's error", err)
	}
}

// TestPollsOnlyWhileItPays: a peer slower than the window stops the
// polls within a few reads (each would burn its window for nothing), and
// one that answers within the window again is polled for again.
func TestPollsOnlyWhileItPays(t *testing.T) {
	a, b := pair(t)
	const window = 200 * time.Microsecond
	r := NewReader(a, window, nil, NewLimit(1)).Adapt()
	buf := make([]byte, 16)
	// exchange makes n reads, the peer writing each answer delay after
	// the read was asked for, and returns how many of them polled.
	exchange := func(n int, delay time.Duration) int {
		polls := r.polls
		for range n {
			asked := make(chan struct{})
			go func() {
				<-asked
				for t0 := time.Now(); time.Since(t0) < delay; {
					// a peer at work: spin, as a sleep's timer is coarser than the window
				}
				b.Write([]byte("x"))
			}()
			close(asked)
			if n, err := r.Read(buf); n != 1 || err != nil {
				t.Fatalf("Read = %d, %v", n, err)
			}
		}
		return r.polls - polls
	}
	if got := exchange(30, 5*time.Millisecond); got > 10 {
		t.Fatalf("a peer 25 windows slow was polled for %d times in 30 reads", got)
	}
	if r.Waiting() <= window {
		t.Fatalf("after 30 slow answers the average wait is %v, within the window %v", r.Waiting(), window)
	}
	if got := exchange(30, 20*time.Microsecond); got < 15 {
		t.Fatalf("a peer within the window again was polled for only %d times in 30 reads (average wait %v)", got, r.Waiting())
	}
}
