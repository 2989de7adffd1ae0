package ring

import (
	"errors"
	"net"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Bell is how a side that found its ring empty sleeps, and how its peer
// wakes it: kmsd and its client use the connection's socket (SocketBell),
// one byte a wake-up. A Go program must not sleep in a futex of its own:
// the thread it blocks holds its processor (P) until the runtime's
// monitor takes it back, tens of microseconds to milliseconds later, and
// with one P the whole process waits; a socket read parks only the
// goroutine, in the runtime's poller.
type Bell interface {
	// Ring wakes the peer if it sleeps; it never blocks.
	Ring()
	// Wait sleeps until the peer rings or deadline passes (zero: none),
	// unless stale reports true once the deadline is set (a new deadline
	// came meanwhile); it returns the socket's error, if any (its end
	// is io.EOF).
	Wait(deadline time.Time, stale func() bool) error
	// Interrupt makes a Wait under way return at t.
	Interrupt(t time.Time)
}

// SocketBell rings over a connected Unix stream socket that carries
// nothing else.
type SocketBell struct {
	uc  *net.UnixConn
	raw syscall.RawConn
	buf [64]byte
}

// NewSocketBell makes the bell of a connection on rings.
func NewSocketBell(uc *net.UnixConn) (*SocketBell, error) {
	raw, err := uc.SyscallConn()
	if err != nil {
		return nil, err
	}
	return &SocketBell{uc: uc, raw: raw}, nil
}

// Ring writes one byte, without waiting: a socket too full to take it
// holds wake-ups the peer has yet to read, which will wake it anyway. It
// writes through Control, not Write, so that no write deadline left on
// the socket can swallow a wake-up.
func (b *SocketBell) Ring() {
	b.raw.Control(func(fd uintptr) {
		for {
			_, err := unix.Write(int(fd), []byte{1})
			if err != unix.EINTR {
				return
			}
		}
	})
}

// Wait reads whatever wake-ups are there (up to 64 at once).
func (b *SocketBell) Wait(deadline time.Time, stale func() bool) error {
	b.uc.SetReadDeadline(deadline)
	if stale() {
		return nil
	}
	_, err := b.uc.Read(b.buf[:])
	return err
}

// Interrupt sets the socket's read deadline.
func (b *SocketBell) Interrupt(t time.Time) { b.uc.SetReadDeadline(t) }

// errNoBell is a Conn's error when it must sleep and has no bell.
var errNoBell = errors.New("ring: no bell to sleep on")
