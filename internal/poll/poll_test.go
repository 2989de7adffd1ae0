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
func pair(t *testing.T) (*net.UnixConn, *net.UnixConn) {
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
		if !l.Take() {
			t.Fatalf("a limit of 2 refused poller %d", i+1)
		}
	}
	if l.Take() {
		t.Fatal("a limit of 2 let a third poller in")
	}
	l.Give()
	if !l.Take() {
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
