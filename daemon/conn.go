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
	"time"

	"kmsd/daemon/audit"
	"kmsd/daemon/policy"
	"kmsd/wire"
)

// conn is one client connection: a reader that decodes and dispatches
// requests, and a writer that sends responses.
type conn struct {
	id        uint64 // for audit request ids
	principal string // the caller's name in usage counts
	s         *Server
	nc        *net.UnixConn
	p         *policy.Principal
	ctx       context.Context

	out      chan []byte   // response frames; room for every request in flight
	slots    chan struct{} // one per request in flight
	inflight sync.WaitGroup
	stopping atomic.Bool
	done     chan struct{} // closed when the connection ends
}

func newConn(s *Server, nc *net.UnixConn, p *policy.Principal) *conn {
	return &conn{
		s: s, nc: nc, p: p, ctx: policy.WithPrincipal(context.Background(), p),
		principal: audit.PrincipalName(p.UID, p.Unit),
		out:       make(chan []byte, s.cfg.MaxInFlight+1),
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
			buf = make([]byte, n)
		}
		body := buf[:n]
		if _, err := io.ReadFull(r, body); err != nil {
			return fmt.Errorf("reading a %d-byte frame: %w", n, err)
		}
		if !c.acquire() {
			return nil
		}
		req, err := wire.DecodeRequest(body)
		clear(body) // it may hold plaintext
		if cap(buf) > 1<<20 {
			buf = nil // keep no large buffer per idle connection
		}
		if req == nil {
			c.answerNow("ProtocolError", 0, nil, nil, &wire.Error{Code: wire.CodeValidation, Message: err.Error()})
			return err
		}
		if err != nil {
			var we *wire.Error
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
		if first && req.Op.Name != wire.OpHello {
			c.answerNow(req.Op.Name, req.ID, nil, nil, &wire.Error{Code: wire.CodeValidation, Message: "the first request on a connection must be Hello"})
			return errors.New("no Hello")
		}
		c.dispatch(req)
	}
}

// acquire takes a slot for one request in flight, waiting while the
// connection has MaxInFlight outstanding. It reports false if the
// connection is ending.
func (c *conn) acquire() bool {
	select {
	case c.slots <- struct{}{}:
		c.inflight.Add(1)
		return true
	case <-c.done:
		return false
	}
}

func (c *conn) dispatch(req *wire.Request) {
	switch req.Op.Name {
	case wire.OpHello:
		c.answerNow(req.Op.Name, req.ID, req.Body, c.s.hello(), nil)
		return
	case wire.OpStatus:
		c.answerNow(req.Op.Name, req.ID, req.Body, c.s.status(c.ctx), nil)
		return
	}
	p := c.s.admin
	if req.Op.Crypto {
		p = c.s.crypto
	}
	if req.Type == wire.TypeRequest {
		c.s.requests.Add(1)
		if !p.submit(&job{c: c, id: req.ID, op: req.Op, in: req.Body}) {
			c.s.throttled.Add(1)
			c.answerNow(req.Op.Name, req.ID, req.Body, nil, throttled())
		}
		return
	}
	c.s.batches.Add(1)
	c.s.requests.Add(int64(len(req.Items)))
	b := &batchJob{c: c, id: req.ID, op: req.Op, items: req.Items, results: make([]wire.Result, len(req.Items))}
	chunks := (len(req.Items) + batchChunk - 1) / batchChunk
	b.left.Store(int32(chunks))
	for lo := 0; lo < len(req.Items); lo += batchChunk {
		hi := min(lo+batchChunk, len(req.Items))
		if p.submit(&job{c: c, b: b, lo: lo, hi: hi}) {
			continue
		}
		evs := make([]*audit.Event, 0, hi-lo)
		for i := lo; i < hi; i++ {
			b.results[i] = wire.Result{Err: throttled()}
			ev := c.newEvent(req.Op.Name, req.ID, i)
			finish(ev, req.Items[i], nil, b.results[i].Err)
			evs = append(evs, ev)
		}
		c.s.record(evs...)
		c.s.throttled.Add(int64(hi - lo))
		if b.left.Add(-1) == 0 {
			c.respondBatch(b)
		}
	}
}

func throttled() *wire.Error {
	return &wire.Error{Code: wire.CodeThrottling, Message: "kmsd's request queue is full; retry after a short wait"}
}

// respond encodes one response and hands it to the writer. It never
// blocks: every request in flight has a place in c.out.
func (c *conn) respond(id uint64, out wire.Message, werr *wire.Error) {
	c.out <- c.encode(id, out, werr)
}

// encode makes the frame of one response and wipes the plaintext the
// response held; the frame itself is wiped once written (or dropped).
func (c *conn) encode(id uint64, out wire.Message, werr *wire.Error) []byte {
	frame, err := wire.AppendResponse(nil, id, out, werr)
	if out != nil {
		wipeOutput(out)
	}
	if err != nil {
		c.s.log.Error("encoding a response", "err", err)
		frame, _ = wire.AppendResponse(nil, id, nil, &wire.Error{Code: wire.CodeInternal, Message: "the response could not be encoded"})
	}
	return frame
}

func (c *conn) respondBatch(b *batchJob) {
	frame, err := wire.AppendBatchResponse(nil, b.id, b.results, nil)
	for _, r := range b.results {
		if r.Out != nil {
			wipeOutput(r.Out)
		}
	}
	if err != nil { // too large for a frame: the client must send smaller batches
		frame, _ = wire.AppendBatchResponse(nil, b.id, nil, &wire.Error{Code: wire.CodeValidation, Message: "the batch's response exceeds the frame limit; send fewer or smaller items"})
	}
	c.out <- frame
}

// protocolError answers a frame that cannot be read, before the
// connection is closed.
func (c *conn) protocolError(err error) {
	if c.acquire() {
		c.respond(0, nil, &wire.Error{Code: wire.CodeValidation, Message: err.Error()})
	}
}

// writeLoop writes response frames, as many as are ready per flush. After
// a write fails it keeps taking frames (dropping them) so that nothing
// waits on it.
func (c *conn) writeLoop() {
	w := bufio.NewWriterSize(c.nc, 64<<10)
	var failed error
	for frame := range c.out {
		n := 0
		write := func(f []byte) {
			if failed == nil {
				c.nc.SetWriteDeadline(time.Now().Add(c.s.cfg.WriteTimeout))
				_, failed = w.Write(f)
			}
			clear(f)
			n++
		}
		write(frame)
	more:
		for {
			select {
			case f, ok := <-c.out:
				if !ok {
					break more
				}
				write(f)
			default:
				break more
			}
		}
		if failed == nil {
			failed = w.Flush()
			if failed != nil {
				c.nc.Close() // the reader stops too
			}
		}
		for range n {
			<-c.slots
			c.inflight.Done()
		}
	}
}
