package ring

import (
	"errors"
	"net"
	"os"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Bell is how a side sleeps, its reader for data or its writer for room,
// and how its peer wakes it: kmsd and its client use the connection's
// socket (SocketBell), one byte a wake-up. A Go program must not sleep in
// a futex of its own: the thread it blocks holds its processor (P) until
// the runtime's monitor takes it back, tens of microseconds to
// milliseconds later, and with one P the whole process waits; a socket
// read parks only the goroutine, in the runtime's poller.
type Bell interface {
	// Ring wakes the peer if it sleeps; it never blocks.
	Ring()
	// Wait sleeps until the peer rings or deadline passes (zero: none),
	// unless stale reports true once the waiter is in place (its deadline
	// set, or its place behind the other waiter taken): a new deadline
	// came, or what the waiter waits for is there. It returns the
	// socket's error, if any (its end is io.EOF). The reader and the
	// writer may wait at once: a wake-up wakes both, and each looks at
	// its ring again; one may so read the byte rung for the other, which
	// is why stale must look at the ring itself.
	Wait(deadline time.Time, stale func() bool) error
	// Interrupt makes a Wait under way return at t.
	Interrupt(t time.Time)
}

// SocketBell rings over a connected Unix stream socket that carries
// nothing else.
type SocketBell struct {
	uc  *net.UnixConn
	raw syscall.RawConn

	mu      sync.Mutex
	reading bool          // a waiter reads the socket, for every waiter
	woke    chan struct{} // closed when that read returns
	buf     [64]byte      // the reading waiter's
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

// Wait reads whatever wake-ups are there (up to 64 at once). Of two
// waiters (a side's reader and writer), one reads the socket and the
// other waits for that read to return: any wake-up, or an Interrupt,
// wakes both.
func (b *SocketBell) Wait(deadline time.Time, stale func() bool) error {
	b.mu.Lock()
	if b.reading {
		woke := b.woke
		b.mu.Unlock()
		return b.waitOther(woke, deadline, stale)
	}
	b.reading, b.woke = true, make(chan struct{})
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		b.reading = false
		close(b.woke)
		b.mu.Unlock()
	}()
	b.uc.SetReadDeadline(deadline)
	if stale() {
		return nil
	}
	_, err := b.uc.Read(b.buf[:])
	return err
}

// waitOther waits for the other waiter's read to return, or deadline.
func (b *SocketBell) waitOther(woke <-chan struct{}, deadline time.Time, stale func() bool) error {
	if stale() {
		return nil
	}
	if deadline.IsZero() {
		<-woke
		return nil
	}
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case <-woke:
		return nil
	case <-t.C:
		return os.ErrDeadlineExceeded
	}
}

// Interrupt sets the socket's read deadline, which ends the read of the
// waiter that reads it, and so both waits.
func (b *SocketBell) Interrupt(t time.Time) { b.uc.SetReadDeadline(t) }

// errNoBell is a Conn's error when it must sleep and has no bell.
var errNoBell = errors.New("ring: no bell to sleep on")
