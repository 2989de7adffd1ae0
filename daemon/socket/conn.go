package socket

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"kmsd/daemon/pipeline"
	"kmsd/daemon/policy"
	"kmsd/wire/ring"
)

// conn is one client connection: its reader (read.go) reads and
// dispatches requests, its writer (respond.go) sends the answers.
type conn struct {
	caller pipeline.Caller // who is at the other end (SO_PEERCRED), for every request
	id     uint64          // for audit request ids
	s      *Server
	nc     *net.UnixConn
	raw    syscall.RawConn // nc's descriptor, for send's non-blocking writes

	out          chan outFrame // response frames; room for every request in flight
	wmu          sync.Mutex    // held while writing to nc: by the writer, or by send
	w            *bufio.Writer // guarded by wmu
	tail         outFrame      // a frame send began: the writer finishes it first; guarded by wmu
	tailOff      int           // how much of tail is on the wire; guarded by wmu
	tailed       bool          // tail holds such a frame; guarded by wmu
	wfailed      error         // the first write error; guarded by wmu
	closedOnFail bool          // wfailed has closed the connection; guarded by wmu
	busy         atomic.Int32  // requests read and not yet answered
	slots        chan struct{} // units of requests in flight (see units)
	cost         int           // the units of the request the reader is on (reader only)
	lastItems    int           // items in the last request dispatched (reader only; idle)
	over         bool          // that request passes the server's total budget (reader only)
	inflight     sync.WaitGroup
	stopping     atomic.Bool
	done         chan struct{} // closed when the connection ends

	// ring carries the frames after Hello when the client took rings
	// (ring.go); set by the reader while nothing else is in flight.
	ring     *ring.Conn
	ringSize int                       // of each of ring's two rings
	ringp    atomic.Pointer[ring.Conn] // ring, for stopReading
}

// connBuffer is the size of a connection's read-ahead and write buffers:
// what an idle connection costs, beside its goroutines' stacks. Larger
// frames and answers bypass them.
const connBuffer = 8 << 10

func newConn(s *Server, nc *net.UnixConn, p *policy.Principal) *conn {
	raw, _ := nc.SyscallConn() // nil (never fails for a socket): every answer goes through the writer
	return &conn{
		caller: pipeline.NewCaller(context.Background(), p),
		s:      s, nc: nc, raw: raw,
		out:   make(chan outFrame, s.cfg.MaxInFlight+1),
		w:     bufio.NewWriterSize(nc, connBuffer),
		slots: make(chan struct{}, s.cfg.MaxInFlight),
		done:  make(chan struct{}),
	}
}

// serve runs the connection to its end: read until EOF, error or
// shutdown; wait until every request read has been answered; flush; close.
func (c *conn) serve() {
	writerDone := make(chan struct{})
	go func() { c.writeLoop(); close(writerDone) }()
	err := c.readLoop()
	if err != nil && !c.stopping.Load() && !errors.Is(err, io.EOF) {
		c.s.log.Info("closing connection", "principal", c.caller.Principal, "pid", c.caller.P.PID, "reason", err.Error())
	}
	c.inflight.Wait()
	close(c.out)
	<-writerDone
	if c.ring != nil {
		c.ring.Close(nil)
	}
	c.nc.Close()
	if c.ring != nil {
		c.s.giveRing(c.caller.P.UID, c.ring, c.ringSize)
	}
	close(c.done)
}

// stopReading makes the reader stop at the next frame boundary (or now,
// if it is waiting for one).
func (c *conn) stopReading() {
	c.stopping.Store(true)
	if r := c.ringp.Load(); r != nil {
		r.SetReadDeadline(time.Now())
	}
	c.nc.SetReadDeadline(time.Now())
}

// setReadDeadline sets the deadline of what the reader reads: the
// socket, or the rings.
func (c *conn) setReadDeadline(t time.Time) {
	if c.ring != nil {
		c.ring.SetReadDeadline(t)
		return
	}
	c.nc.SetReadDeadline(t)
}

// takeSlots takes u of the connection's slots (its own budget), waiting
// while they are spent; false if the connection ends first, with none
// taken.
func (c *conn) takeSlots(u int) bool {
	for i := range u {
		select {
		case c.slots <- struct{}{}:
		case <-c.done:
			c.giveSlots(i)
			return false
		}
	}
	return true
}

// giveSlots gives back n of the connection's slots.
func (c *conn) giveSlots(n int) {
	for range n {
		<-c.slots
	}
}
