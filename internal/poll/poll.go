// Package poll reads a socket by polling it for a short window before a
// read that sleeps.
//
// On a virtual machine, a read that sleeps in the kernel costs more to
// wake than a whole request costs to serve: measured here, two processes
// ping-ponging 100 bytes over a Unix socket take 38 µs a round trip with
// blocking reads, 17 µs when the reader polls without blocking for up to
// 50 µs first, and 5 µs when both sides do. A reader that expects an
// answer (a client with a call in flight) or the next request (kmsd
// just after answering one) polls for a window, yielding the processor
// between attempts so that the goroutines it waits on keep running, and
// then sleeps as before. The window bounds what an idle peer costs: no
// poll starts unless the caller says one is worth it, and a process polls
// on at most Limit readers at once.
//
// A poll that finds nothing has burnt its whole window, and a peer that
// answers slower than the window (a client decoding a batch of 256
// answers before it sends the next, a kmsd busy with another's batch)
// makes every poll such a loss (BenchmarkSlowPeer: 109-135 µs of CPU per
// exchange polling always, 70-80 adapting, here). So each Reader keeps the
// average of its recent polled waits (the time from a read that found
// nothing to the data's arrival, weighted 1/4 to the newest) and polls
// only while that average is within the window. While it is not, reads
// sleep at once, and one wait in every probeEvery is polled again, as a
// probe: one that finds data within the window (or a sleep that ends
// within it) shows that the peer is quick again, and polling resumes.
// Sleeps are not averaged: their time includes the wake-up, which on a
// virtual machine alone can exceed the window. Reads that find data at
// once are not waits and change nothing.
package poll

import (
	"errors"
	"io"
	"net"
	"os"
	"runtime"
	"sync/atomic"
	"syscall"
	"time"
)

// Reader reads a connection, polling for up to Window first when Want
// says an answer is expected. The zero Window never polls.
type Reader struct {
	conn   net.Conn
	raw    syscall.RawConn
	window time.Duration
	want   func() bool
	limit  *Limit

	// try's state, for readOnce and readWait (one Read at a time, as for
	// any reader)
	read, wait func(fd uintptr) bool
	p          []byte
	n          int
	err        error
	waitedAt   time.Time // when readWait first found nothing, or zero

	avg   time.Duration // the recent polled waits' average (package doc)
	adapt bool          // polls only while it pays (Adapt)
	quiet int           // waits slept since the last probe
	polls int           // polls begun, for tests
}

// probeEvery is how often a reader that has stopped polling polls again:
// one wait in probeEvery, which bounds what probing a slow peer costs to
// a window per probeEvery of its answers.
const probeEvery = 8

// Limit bounds how many Readers of a process poll at once.
type Limit struct {
	n, most atomic.Int32
}

// NewLimit allows most concurrent pollers (at least one).
func NewLimit(most int) *Limit {
	l := new(Limit)
	l.most.Store(int32(max(1, most)))
	return l
}

// DefaultLimit allows one poller per two processors: the others are for
// the work the pollers wait on.
var DefaultLimit = NewLimit(runtime.GOMAXPROCS(0) / 2)

func (l *Limit) take() bool {
	if l.n.Add(1) > l.most.Load() {
		l.n.Add(-1)
		return false
	}
	return true
}

func (l *Limit) give() { l.n.Add(-1) }

// NewReader reads conn, polling for up to window whenever want reports
// true (want nil: always), under limit (nil: DefaultLimit). A conn without
// a raw descriptor (not a socket) is read as is.
func NewReader(conn net.Conn, window time.Duration, want func() bool, limit *Limit) *Reader {
	r := &Reader{conn: conn, window: window, want: want, limit: limit}
	if r.limit == nil {
		r.limit = DefaultLimit
	}
	if sc, ok := conn.(syscall.Conn); ok && window > 0 {
		r.raw, _ = sc.SyscallConn()
		r.read, r.wait = r.readOnce, r.readWait
	}
	return r
}

// Read reads into p: at once if data is there; else, if an answer is
// expected, by polling for up to the window; else, or once the window has
// passed, by a read that sleeps (the connection's deadlines hold for
// both).
func (r *Reader) Read(p []byte) (int, error) {
	if r.raw == nil || len(p) == 0 || (r.want != nil && !r.want()) {
		return r.conn.Read(p)
	}
	probe := r.adapt && r.avg > r.window
	if probe && r.quiet < probeEvery {
		return r.sleep(p)
	}
	if !r.limit.take() {
		return r.conn.Read(p)
	}
	start := time.Now()
	r.polls++
	n, waited, err, ok := r.poll(p, start)
	r.limit.give()
	if !ok {
		n, err = r.conn.Read(p)
		waited = time.Since(start)
	}
	switch {
	case waited == 0: // data was there: no wait, nothing learnt
	case probe && waited <= r.window:
		r.avg, r.quiet = waited, 0 // the peer is quick again
	default:
		r.avg += (waited - r.avg) / 4
		r.quiet = 0
	}
	return n, err
}

// Adapt makes r poll only while its polls pay (see the package doc), and
// returns r. One side of a connection adapts, not both: a side that
// sleeps answers only after its wake-up, so two adapting peers can make
// each other look slow and settle into both sleeping (measured: a
// synchronous caller's round trip 4x slower). kmsd adapts; its client
// polls as told, which keeps kmsd's view of it true.
func (r *Reader) Adapt() *Reader {
	r.adapt = true
	return r
}

// Waiting is the average of the reader's recent polled waits.
func (r *Reader) Waiting() time.Duration { return r.avg }

// sleep reads as net.Conn.Read does (a read, and if nothing is there, a
// sleep until something is), for a reader that is not polling: a wait is
// counted towards the next probe, and one that ended within the window
// resumes polling.
func (r *Reader) sleep(p []byte) (int, error) {
	r.p, r.n, r.err, r.waitedAt = p, 0, errAgain, time.Time{}
	cerr := r.raw.Read(r.wait)
	r.p = nil
	if !r.waitedAt.IsZero() {
		if d := time.Since(r.waitedAt); d <= r.window {
			r.avg, r.quiet = d, 0
		} else {
			r.quiet++
		}
	}
	if cerr != nil {
		return 0, cerr
	}
	return r.n, r.err
}

// readWait is sleep's raw read: false (wait until readable) when nothing
// is there, noting when it first found nothing.
func (r *Reader) readWait(fd uintptr) bool {
	if r.readOnce(fd); r.err != errAgain {
		return true
	}
	if r.waitedAt.IsZero() {
		r.waitedAt = time.Now()
	}
	return false
}

// errAgain is what a poll that found nothing reports.
var errAgain = errors.New("again")

// poll tries non-blocking reads from start until one finds data or the
// window passes; ok says it has a result, and waited how long it took
// (0 when the first try found it).
func (r *Reader) poll(p []byte, start time.Time) (n int, waited time.Duration, err error, ok bool) {
	end := start.Add(r.window)
	for first := true; ; first = false {
		n, err = r.try(p)
		if err != errAgain {
			if !first {
				waited = max(time.Since(start), 1)
			}
			return n, waited, err, true
		}
		if time.Now().After(end) {
			return 0, 0, nil, false
		}
		runtime.Gosched()
	}
}

// try makes one read that does not wait.
func (r *Reader) try(p []byte) (int, error) {
	r.p, r.n, r.err = p, 0, errAgain
	cerr := r.raw.Read(r.read)
	r.p = nil
	if cerr != nil {
		return 0, cerr // closed, or past a deadline
	}
	return r.n, r.err
}

// readOnce is the raw read try makes, kept in r.read so that a poll does
// not allocate a closure per attempt.
func (r *Reader) readOnce(fd uintptr) bool {
	for {
		m, err := syscall.Read(int(fd), r.p)
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
		case err != nil:
			r.err = os.NewSyscallError("read", err)
		case m == 0:
			r.err = io.EOF
		default:
			r.n, r.err = m, nil
		}
		return true // never wait here: the caller decides
	}
}
