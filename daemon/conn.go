package daemon

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"kmsd/daemon/audit"
	"kmsd/daemon/policy"
	"kmsd/wire"
	"kmsd/wire/api"
)

// conn is one client connection: a reader that decodes and dispatches
// requests, and a writer that sends responses.
type conn struct {
	id        uint64 // for audit request ids
	principal string // the caller's name in usage counts
	s         *Server
	nc        *net.UnixConn
	raw       syscall.RawConn // nc's descriptor, for send's non-blocking writes
	p         *policy.Principal
	ctx       context.Context

	out      chan outFrame // response frames; room for every request in flight
	wmu      sync.Mutex    // held while writing to nc: by the writer, or by send
	w        *bufio.Writer // guarded by wmu
	rest     []byte        // the end of a frame send began: written first; guarded by wmu
	wfailed  error         // the first write error; guarded by wmu
	busy     atomic.Int32  // requests read and not yet answered
	slots    chan struct{} // units of requests in flight (see units)
	cost     int           // the units of the request the reader is on (reader only)
	over     bool          // that request passes the server's total budget (reader only)
	inflight sync.WaitGroup
	stopping atomic.Bool
	done     chan struct{} // closed when the connection ends
}

func newConn(s *Server, nc *net.UnixConn, p *policy.Principal) *conn {
	raw, _ := nc.SyscallConn() // nil (never fails for a socket): every answer goes through the writer
	return &conn{
		s: s, nc: nc, raw: raw, p: p, ctx: policy.WithPrincipal(context.Background(), p),
		principal: audit.PrincipalName(p.UID, p.Unit),
		out:       make(chan outFrame, s.cfg.MaxInFlight+1),
		w:         bufio.NewWriterSize(nc, 64<<10),
		slots:     make(chan struct{}, s.cfg.MaxInFlight),
		done:      make(chan struct{}),
	}
}

// serve runs the connection to its end: read until EOF, error or
// shutdown; wait until every request read has been answered; flush; close.
func (c *conn) serve() {
	writerDone := make(chan struct{})
	go func() { c.writeLoop(); close(writerDone) }()
	err := c.readLoop()
	if err != nil && !c.stopping.Load() && !errors.Is(err, io.EOF) {
		c.s.log.Info("closing connection", "principal", c.p.String(), "reason", err.Error())
	}
	c.inflight.Wait()
	close(c.out)
	<-writerDone
	c.nc.Close()
	close(c.done)
}

// stopReading makes the reader stop at the next frame boundary (or now,
// if it is waiting for one).
func (c *conn) stopReading() {
	c.stopping.Store(true)
	c.nc.SetReadDeadline(time.Now())
}

func (c *conn) readLoop() error {
	r := bufio.NewReaderSize(c.nc, 64<<10)
	var buf []byte
	var hdr [wire.FrameHeaderSize]byte
	for first := true; ; first = false {
		if c.stopping.Load() {
			return nil
		}
		c.nc.SetReadDeadline(time.Now().Add(c.s.cfg.IdleTimeout))
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) && !c.stopping.Load() {
				return errors.New("idle timeout")
			}
			return err
		}
		n := binary.BigEndian.Uint32(hdr[:])
		if n == 0 || n > wire.MaxFrame {
			c.protocolError(fmt.Errorf("frame length %d is not in 1..%d", n, wire.MaxFrame))
			return fmt.Errorf("frame length %d", n)
		}
		c.nc.SetReadDeadline(time.Now().Add(c.s.cfg.FrameTimeout))
		if cap(buf) < int(n) {
			buf = wire.GetFrameBuffer(int(n))
		}
		body := buf[:n]
		if _, err := io.ReadFull(r, body); err != nil {
			return fmt.Errorf("reading a %d-byte frame: %w", n, err)
		}
		if !c.acquire(units(int(n))) {
			return nil
		}
		req, err := wire.DecodeRequest(body)
		clear(body) // it may hold plaintext
		if cap(buf) >= wire.BigFrame {
			wire.PutFrameBuffer(body[:0]) // wiped above; large buffers are shared, not kept per connection
			buf = nil
		}
		if req == nil {
			c.answerNow("ProtocolError", 0, nil, nil, &api.Error{Code: api.CodeValidation, Message: err.Error()})
			return err
		}
		if err != nil {
			var we *api.Error
			errors.As(err, &we)
			name := "UnknownOperation"
			if req.Op != nil {
				name = req.Op.Name
			}
			c.answerNow(name, req.ID, nil, nil, we)
			if first {
				return errors.New("the first request was not a valid Hello")
			}
			continue
		}
		if first && req.Op.Name != api.OpHello {
			c.answerNow(req.Op.Name, req.ID, nil, nil, &api.Error{Code: api.CodeValidation, Message: "the first request on a connection must be Hello"})
			return errors.New("no Hello")
		}
		c.dispatch(req, r.Buffered() == 0)
	}
}

// inflightUnit is what one slot of a connection's in-flight budget
// covers: a request takes a slot per started 16 KiB of its frame, so
// MaxInFlight small requests, or a few large batches, are outstanding at
// once, and what a connection holds is bounded in bytes, not only in count.
const inflightUnit = 16 << 10

// units is the slots a request frame of n bytes takes.
func units(n int) int { return max(1, (n+inflightUnit-1)/inflightUnit) }

// acquire takes u slots for one request in flight, waiting while the
// connection's budget is spent. Only the reader acquires, so a partial
// hold never deadlocks: the writer returns slots as answers leave. It
// reports false if the connection is ending.
func (c *conn) acquire(u int) bool {
	for i := 0; i < u; i++ {
		select {
		case c.slots <- struct{}{}:
		case <-c.done:
			return false
		}
	}
	c.cost = u
	c.over = c.s.hold(u)
	c.inflight.Add(1)
	c.busy.Add(1)
	return true
}

// dispatch serves a request: on the reader itself when that is quickest
// (see inline), else through a worker pool. last says no further request
// is waiting in the read buffer.
func (c *conn) dispatch(req *wire.Request, last bool) {
	switch req.Op.Name {
	case api.OpHello:
		c.answerNow(req.Op.Name, req.ID, req.Body, c.s.hello(), nil)
		return
	case api.OpStatus:
		c.answerNow(req.Op.Name, req.ID, req.Body, c.s.status(c.ctx), nil)
		return
	}
	p := c.s.admin
	if req.Op.Crypto {
		p = c.s.crypto
	}
	if req.Type == wire.TypeRequest {
		c.s.requests.Add(1)
		if last && !c.over && req.Op.Crypto && c.busy.Load() == 1 && p.depth() == 0 {
			// inline: a lone crypto request on a connection with nothing
			// else in flight, and no queue to wait behind: the reader does
			// it, as a synchronous caller's request would otherwise cost
			// two goroutine handoffs (to a worker, and from it) that take
			// longer than the work. It writes the audit record itself when
			// the trail is idle (waiting for its flush, as the caller would)
			// and answers in place (send).
			c.s.runJobs([]*job{{c: c, id: req.ID, op: req.Op, in: req.Body, units: c.cost}}, true)
			return
		}
		if c.over || !p.submit(&job{c: c, id: req.ID, op: req.Op, in: req.Body, units: c.cost}) {
			c.s.throttled.Add(1)
			c.answerNow(req.Op.Name, req.ID, req.Body, nil, throttled())
		}
		return
	}
	c.s.batches.Add(1)
	c.s.requests.Add(int64(len(req.Items)))
	b := &batchJob{c: c, id: req.ID, op: req.Op, items: req.Items, results: make([]wire.Result, len(req.Items)), units: c.cost}
	chunks := (len(req.Items) + batchChunk - 1) / batchChunk
	b.left.Store(int32(chunks))
	for lo := 0; lo < len(req.Items); lo += batchChunk {
		hi := min(lo+batchChunk, len(req.Items))
		if !c.over && p.submit(&job{c: c, b: b, lo: lo, hi: hi}) {
			continue
		}
		evs := make([]*audit.Event, 0, hi-lo)
		for i := lo; i < hi; i++ {
			b.results[i] = wire.Result{Err: throttled()}
			ev := c.newEvent(req.Op.Name, req.ID, i)
			finish(ev, req.Items[i], nil, b.results[i].Err)
			evs = append(evs, ev)
		}
		c.s.record(audit.Fold(c.requestID(req.ID), evs, lo))
		c.s.throttled.Add(int64(hi - lo))
		if b.left.Add(-1) == 0 {
			c.respondBatch(b)
		}
	}
}

func throttled() *api.Error {
	return &api.Error{Code: api.CodeThrottling, Message: "kmsd's request queue is full; retry after a short wait"}
}

// protocolError answers a frame that cannot be read, before the
// connection is closed.
func (c *conn) protocolError(err error) {
	if c.acquire(1) {
		c.respond(0, 1, nil, &api.Error{Code: api.CodeValidation, Message: err.Error()})
	}
}
