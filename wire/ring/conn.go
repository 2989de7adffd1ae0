package ring

import (
	"net"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"kmsd/internal/poll"
)

// Conn is one side's view of an area: a stream it reads (the peer's
// ring) and one it writes (its own), with deadlines as a net.Conn has.
// One goroutine may read and one write at a time (callers serialize
// their writes); Close and the deadlines may be called from any.
type Conn struct {
	mem  []byte
	size uint64
	in   half // the ring this side reads
	out  half // the ring this side writes
	bell Bell

	rtail uint64 // in's tail: this side's own count, never read back (reader only)
	whead uint64 // out's head, likewise (writer only)

	rdl, wdl   atomic.Int64 // deadlines, Unix nanoseconds; 0: none
	rsleep     atomic.Bool  // the reader may be asleep on the bell
	wsleep     atomic.Bool  // the writer may be asleep on it, for room
	closed     atomic.Bool
	closeErr   atomic.Pointer[error]
	unmap      sync.Mutex   // guards mem's unmapping
	ractive    atomic.Int32 // a Read (or Buffered) is in the area
	wactive    atomic.Int32 // a Write is in the area
	window     time.Duration
	want       func() bool
	limit      *poll.Limit
	rings      atomic.Uint64 // times this side rang the bell
	sleeps     atomic.Uint64 // times this side's reader slept on it
	fruitless  int           // reader's wake-ups in a row that found nothing (reader only)
	wfruitless int           // writer's wake-ups in a row that found no room (writer only)
	wspin      time.Duration // how long the writer yields for room before it sleeps (writer only; see waitSpace)
}

// half is one ring of the area.
type half struct {
	data  []byte
	head  *atomic.Uint64
	tail  *atomic.Uint64
	sleep *atomic.Uint32 // its reader is (about to be) asleep
	space *atomic.Uint32 // its writer is (about to be) asleep for room
}

func newHalf(mem []byte, line, data, size int) half {
	return half{
		data:  mem[data : data+size : data+size],
		head:  index(mem, line+lineHead),
		tail:  index(mem, line+lineTail),
		sleep: word(mem, line+lineSleep),
		space: word(mem, line+lineSpace),
	}
}

func newConn(mem []byte, size int, side Side) *Conn {
	req := newHalf(mem, offReq, HeaderSize, size)
	ans := newHalf(mem, offAns, HeaderSize+size, size)
	c := &Conn{mem: mem, size: uint64(size), limit: poll.DefaultLimit, wspin: spaceSpin}
	if side == Server {
		c.in, c.out = req, ans
	} else {
		c.in, c.out = ans, req
	}
	return c
}

// SetBell sets how the reader sleeps and how the peer's reader is woken;
// it must be set before the first Read or Write.
func (c *Conn) SetBell(b Bell) { c.bell = b }

// SetPoll makes Read poll for up to window, before it sleeps, whenever
// want reports true (nil: always), under limit (nil: poll.DefaultLimit).
func (c *Conn) SetPoll(window time.Duration, want func() bool, limit *poll.Limit) {
	c.window, c.want = window, want
	if limit != nil {
		c.limit = limit
	}
}

// Read reads what the peer has written, up to len(p), waiting for at
// least a byte until the read deadline (os.ErrDeadlineExceeded), Close
// (its error) or the bell's end (io.EOF: the peer is gone).
func (c *Conn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if !enter(&c.ractive, &c.closed) {
		return 0, c.closedErr()
	}
	defer c.ractive.Add(-1)
	polled := false
	for {
		n, err := c.readNow(p)
		if n > 0 || err != nil {
			c.fruitless = 0
			return n, err
		}
		if err := c.stopped(&c.rdl); err != nil {
			return 0, err
		}
		if !polled && c.window > 0 && (c.want == nil || c.want()) && c.limit.Take() {
			c.poll()
			c.limit.Give()
			polled = true
			continue
		}
		if err := c.sleep(); err != nil {
			return 0, err
		}
	}
}

// sleep sleeps the reader on the bell until the peer writes and rings,
// the read deadline passes or the Conn is closed.
func (c *Conn) sleep() error {
	return c.nap(napper{me: &c.rsleep, other: &c.wsleep, word: c.in.sleep, dl: &c.rdl,
		ready: func() bool { return c.avail() != 0 }, fruitless: &c.fruitless, count: &c.sleeps})
}

// napper is what tells a reader's sleep from a writer's.
type napper struct {
	me, other *atomic.Bool   // this waiter may be asleep; so may the other of this side
	word      *atomic.Uint32 // the area's flag asking the peer to ring
	dl        *atomic.Int64  // this waiter's deadline
	ready     func() bool    // what it waits for is there (or the ring cannot be right)
	fruitless *int           // its wake-ups in a row that found nothing
	count     *atomic.Uint64 // its sleeps, if counted
}

// nap sleeps on the bell until the peer rings, the deadline passes or the
// Conn is closed. The flag is set before the ring is looked at once more,
// so a wake-up between the waiter's last look and its sleep is never
// lost: with Go's sequentially consistent atomics, either the peer sees
// the flag (and rings) or this look sees what it did. The bell looks once
// more when the waiter is in place: the other waiter of this side may
// have read the byte rung for this one.
func (c *Conn) nap(n napper) error {
	if c.bell == nil {
		return errNoBell
	}
	n.me.Store(true)
	defer n.me.Store(false)
	dl := n.dl.Load()
	n.word.Store(1)
	if n.ready() || c.closed.Load() {
		n.word.Store(0)
		return nil
	}
	var t time.Time
	if dl != 0 {
		t = time.Unix(0, dl)
	}
	if n.count != nil {
		n.count.Add(1)
	}
	err := c.bell.Wait(t, func() bool { return n.dl.Load() != dl || c.closed.Load() || n.ready() })
	switch {
	case err == nil:
	case os.IsTimeout(err):
		return nil // the caller sees whether its deadline passed (it may have moved)
	default:
		c.Close(err)
		return err
	}
	if !n.ready() && !n.other.Load() { // a wake-up for the other waiter is not for nothing
		if *n.fruitless++; *n.fruitless > fruitlessMost {
			time.Sleep(time.Millisecond) // a peer that rings for nothing waits too
		}
	}
	return nil
}

// fruitlessMost is how many wake-ups without data in a row a reader
// takes before it sleeps a millisecond between them.
const fruitlessMost = 16

// poll looks at the head until data comes or the window passes,
// yielding the processor between looks.
func (c *Conn) poll() {
	end := time.Now().Add(c.window)
	for c.avail() == 0 && !c.closed.Load() && time.Now().Before(end) {
		runtime.Gosched()
	}
}

// avail is how many bytes wait in the ring this side reads; a head that
// cannot be right counts as something to read (readNow reports it).
func (c *Conn) avail() uint64 { return c.in.head.Load() - c.rtail }

// Buffered is how many bytes the peer has written that Read has not
// returned (0 if the head cannot be right).
func (c *Conn) Buffered() int {
	if !enter(&c.ractive, &c.closed) {
		return 0
	}
	defer c.ractive.Add(-1)
	if n := c.avail(); n <= c.size {
		return int(n)
	}
	return 0
}

// readNow copies what is there, without waiting.
func (c *Conn) readNow(p []byte) (int, error) {
	n := c.avail()
	if n > c.size {
		return 0, ErrCorrupt
	}
	if n == 0 {
		return 0, nil
	}
	n = min(n, uint64(len(p)))
	off := c.rtail & (c.size - 1)
	k := copy(p[:n], c.in.data[off:])
	copy(p[k:n], c.in.data)
	c.rtail += n
	c.in.tail.Store(c.rtail)
	if c.in.space.Load() != 0 && c.in.space.Swap(0) != 0 && c.bell != nil {
		c.rings.Add(1)
		c.bell.Ring() // the peer's writer sleeps until there is room
	}
	return int(n), nil
}

// Write writes p, waiting for space as the peer reads, until the write
// deadline or Close.
func (c *Conn) Write(p []byte) (int, error) {
	n, err := c.Writev([][]byte{p})
	return int(n), err
}

// Writev writes bufs in order, as Write does, making what it wrote
// visible to the peer once (or each time it must wait for space).
func (c *Conn) Writev(bufs [][]byte) (int64, error) {
	if !enter(&c.wactive, &c.closed) {
		return 0, c.closedErr()
	}
	defer c.wactive.Add(-1)
	var n int64
	for _, p := range bufs {
		for len(p) > 0 {
			k, err := c.copyIn(p)
			if err != nil {
				return n, err
			}
			n += int64(k)
			p = p[k:]
			if len(p) > 0 {
				c.publish()
				if err := c.waitSpace(); err != nil {
					return n, err
				}
			}
		}
	}
	c.publish()
	return n, nil
}

// TryWritev writes all of bufs if the ring has room for them now, and
// reports whether it did; it never waits.
func (c *Conn) TryWritev(bufs [][]byte) bool {
	if !enter(&c.wactive, &c.closed) {
		return false
	}
	defer c.wactive.Add(-1)
	free, err := c.free()
	if err != nil {
		return false
	}
	var n uint64
	for _, p := range bufs {
		n += uint64(len(p))
	}
	if n > free {
		return false
	}
	for _, p := range bufs {
		c.copyIn(p)
	}
	c.publish()
	return true
}

// free is the room in the ring this side writes.
func (c *Conn) free() (uint64, error) {
	used := c.whead - c.out.tail.Load()
	if used > c.size {
		return 0, ErrCorrupt
	}
	return c.size - used, nil
}

// copyIn copies as much of p as there is room for after the head,
// without making it visible yet.
func (c *Conn) copyIn(p []byte) (int, error) {
	if c.closed.Load() {
		return 0, c.closedErr()
	}
	free, err := c.free()
	if err != nil {
		return 0, err
	}
	n := min(free, uint64(len(p)))
	off := c.whead & (c.size - 1)
	k := copy(c.out.data[off:], p[:n])
	copy(c.out.data, p[k:n])
	c.whead += n
	return int(n), nil
}

// publish makes what copyIn wrote visible and rings the bell if the
// peer's reader sleeps: one atomic load when it is awake.
func (c *Conn) publish() {
	if c.out.head.Load() == c.whead {
		return
	}
	c.out.head.Store(c.whead)
	if c.out.sleep.Load() != 0 && c.out.sleep.Swap(0) != 0 && c.bell != nil {
		c.rings.Add(1)
		c.bell.Ring()
	}
}

// waitSpace waits until the ring this side writes has room: it yields
// for a while, then sleeps on the bell as a reader does. The flag is set
// before the room is looked at once more, so the peer's reader, which
// rings when it finds the flag after freeing room, never leaves it
// asleep.
//
// How long it yields adapts: a peer that frees room within spaceSpin
// (one reading a large frame on a core of its own) is worth yielding for,
// and the yield doubles, up to spaceSpin; one that does not (a peer
// waiting for the CPU this writer holds, on a busy host) makes it halve,
// down to none. Measured on a 2-vCPU VM, batches of 4 KiB items: a fixed
// 50 µs spin cost kmsd about 9% more CPU per item than none.
func (c *Conn) waitSpace() error {
	start := time.Now()
	slept := false
	for {
		free, err := c.free()
		if err != nil {
			return err
		}
		if free > 0 {
			c.wfruitless = 0
			c.adaptSpin(time.Since(start))
			return nil
		}
		if err := c.stopped(&c.wdl); err != nil {
			return err
		}
		if !slept && time.Since(start) < c.wspin {
			runtime.Gosched()
			continue
		}
		slept = true
		if err := c.sleepForSpace(); err != nil {
			return err
		}
	}
}

// adaptSpin sets how long the next waitSpace yields, from how long this
// one waited for room: under spaceSpin, yielding would have found it
// (or did).
func (c *Conn) adaptSpin(waited time.Duration) {
	if waited < spaceSpin {
		c.wspin = min(spaceSpin, 2*c.wspin+time.Microsecond)
	} else if c.wspin /= 2; c.wspin < time.Microsecond {
		c.wspin = 0
	}
}

// spaceSpin is the longest a writer yields for room before it sleeps.
const spaceSpin = 50 * time.Microsecond

// sleepForSpace sleeps the writer on the bell until the peer's reader
// frees room and rings, the write deadline passes or the Conn is closed.
func (c *Conn) sleepForSpace() error {
	return c.nap(napper{me: &c.wsleep, other: &c.rsleep, word: c.out.space, dl: &c.wdl,
		ready: func() bool { free, err := c.free(); return free > 0 || err != nil }, fruitless: &c.wfruitless})
}

// stopped is the error a wait ends with: Close's, or the deadline's.
func (c *Conn) stopped(dl *atomic.Int64) error {
	if c.closed.Load() {
		return c.closedErr()
	}
	if d := dl.Load(); d != 0 && time.Now().UnixNano() >= d {
		return os.ErrDeadlineExceeded
	}
	return nil
}

// SetReadDeadline sets when a waiting Read gives up (zero: never),
// waking one that sleeps so that it sees the new one.
func (c *Conn) SetReadDeadline(t time.Time) error {
	c.rdl.Store(unixNano(t))
	if c.rsleep.Load() && c.bell != nil {
		c.bell.Interrupt(time.Now())
	}
	return nil
}

// SetWriteDeadline sets when a Write waiting for space gives up, waking
// one that sleeps so that it sees the new one.
func (c *Conn) SetWriteDeadline(t time.Time) error {
	c.wdl.Store(unixNano(t))
	if c.wsleep.Load() && c.bell != nil {
		c.bell.Interrupt(time.Now())
	}
	return nil
}

func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return max(1, t.UnixNano())
}

// Close ends the stream: a waiting or later Read or Write fails with
// err (nil: net.ErrClosed). The area stays mapped until Unmap.
func (c *Conn) Close(err error) {
	if err == nil {
		err = net.ErrClosed
	}
	c.closeErr.CompareAndSwap(nil, &err)
	if !c.closed.Swap(true) && (c.rsleep.Load() || c.wsleep.Load()) && c.bell != nil {
		c.bell.Interrupt(time.Now())
	}
}

func (c *Conn) closedErr() error {
	if p := c.closeErr.Load(); p != nil {
		return *p
	}
	return net.ErrClosed
}

// Rings is how many times this side rang the bell to wake its peer
// (each a system call), and Sleeps how many times its reader slept.
func (c *Conn) Rings() uint64 { return c.rings.Load() }

// Sleeps is how many times this side's reader slept on the bell.
func (c *Conn) Sleeps() uint64 { return c.sleeps.Load() }

// enter counts a user of the area in, unless the Conn is closed: Unmap
// waits for every user to leave. (Sequentially consistent atomics: either
// the user sees closed, or Unmap sees the user.)
func enter(active *atomic.Int32, closed *atomic.Bool) bool {
	active.Add(1)
	if closed.Load() {
		active.Add(-1)
		return false
	}
	return true
}

// Unmap closes c, waits for any Read or Write still in the area to leave
// it, and unmaps it; only the first call does so.
func (c *Conn) Unmap() error {
	c.Close(nil)
	for c.ractive.Load() != 0 || c.wactive.Load() != 0 {
		time.Sleep(50 * time.Microsecond)
	}
	c.unmap.Lock()
	defer c.unmap.Unlock()
	mem := c.mem
	c.mem = nil
	if mem == nil {
		return nil
	}
	return unix.Munmap(mem)
}
