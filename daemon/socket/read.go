package socket

import (
	"errors"
	"fmt"
	"kmsd/daemon/audit"
	"os"
	"strconv"
	"time"

	"kmsd/daemon/pipeline"
	"kmsd/internal/poll"
	"kmsd/wire"
	"kmsd/wire/api"
)

// readLoop reads the connection's frames with the protocol's frame
// reader, takes each request's share of the in-flight budgets before its
// body is read, decodes it, and dispatches it. The first request must be
// Hello. It returns when the connection ends (nil on shutdown).
func (c *conn) readLoop() error {
	fr := wire.NewFrameReader(poll.NewReader(c.nc, c.s.cfg.PollWindow, c.idle, nil), connBuffer, wire.MaxFrame)
	var buf []byte
	for first := true; ; first = false {
		if c.stopping.Load() {
			return nil
		}
		wait := c.s.cfg.IdleTimeout
		if first {
			wait = c.s.cfg.HelloTimeout // a connection that says nothing is let go soon
		}
		c.setReadDeadline(time.Now().Add(wait))
		n, err := fr.Next()
		switch {
		case errors.Is(err, wire.ErrFrameTooLarge), errors.Is(err, wire.ErrEmptyFrame):
			c.protocolError(fmt.Errorf("frame length is not in 1..%d", wire.MaxFrame))
			return err
		case errors.Is(err, os.ErrDeadlineExceeded) && !c.stopping.Load() && first:
			return errors.New("no Hello within the hello timeout")
		case errors.Is(err, os.ErrDeadlineExceeded) && !c.stopping.Load():
			return errors.New("idle timeout")
		case err != nil:
			return err
		}
		// The request takes its share of the budgets before its body is
		// read: past the server's, a large body is read past, not kept (a
		// small one is read, so that Hello and Status are still answered).
		if !c.acquire(pipeline.Units(n), first && n <= connBuffer) {
			return nil
		}
		c.setReadDeadline(time.Now().Add(c.s.cfg.FrameTimeout))
		if c.over && n > connBuffer {
			head, err := fr.Skip(make([]byte, 256))
			if err != nil {
				c.unhold()
				return fmt.Errorf("reading a %d-byte frame: %w", n, err)
			}
			if err := c.refuse(head, first); err != nil {
				return err
			}
			continue
		}
		body, err := fr.BodyGrowing(buf)
		if err != nil {
			c.unhold()
			return fmt.Errorf("reading a %d-byte frame: %w", n, err)
		}
		req, err := wire.DecodeRequest(body)
		var frame []byte
		switch {
		case err == nil && req.Type == wire.TypeBatchRequest:
			frame, buf = body, nil // the batch's items refer into it: it goes with them
		case cap(body) >= wire.BigFrame:
			wire.PutFrameBuffer(body) // wiped; large buffers are shared, not kept per connection
			buf = nil
		default:
			clear(body) // it may hold plaintext
			buf = body[:0]
		}
		if err := c.take(req, err, frame, first, c.drained(fr)); err != nil {
			return err
		}
		if first && c.ring != nil {
			if fr.Buffered() != 0 {
				c.ring.Close(nil)
				return errors.New("a frame on the socket after a Hello that asked for rings")
			}
			fr = c.onRing()
		}
	}
}

// drained reports whether no further request waits to be read.
func (c *conn) drained(fr *wire.FrameReader) bool {
	if c.ring != nil {
		return c.ring.Buffered() == 0
	}
	return fr.Buffered() == 0
}

// onRing moves the reader to the rings: it reads them, unbuffered (a
// read from a ring costs no system call, and the frame reader copies
// out of the shared area what it decodes), polling as it polls the
// socket, and sleeping on the socket's wake-ups.
func (c *conn) onRing() *wire.FrameReader {
	c.ring.SetPoll(c.s.cfg.PollWindow, c.idle, nil)
	c.ringp.Store(c.ring)
	if c.stopping.Load() {
		c.ring.SetReadDeadline(time.Now())
	}
	return wire.NewFrameReader(c.ring, 0, wire.MaxFrame)
}

// idle reports whether the connection has no request in flight and the
// last was small: its client has its answers and is likely to send again
// at once, for which the reader polls (Config.PollWindow). Measured, this
// pays for clients that coalesce many callers' calls too, not only for a
// synchronous one. A client that sent more than pollAfterMost items is
// busy with their answers for longer than the window, which polling
// would only burn.
func (c *conn) idle() bool { return c.busy.Load() == 0 && c.lastItems <= pollAfterMost }

// pollAfterMost is the most items a request may have for the reader to
// poll after it. Frames of concurrent callers' calls, which a client
// coalesces, are below it (64 callers make frames of 16 to 64 calls);
// explicit batches of 256 are above it: at one worker on a 2-vCPU VM,
// batches of 256 × 32 B cost kmsd 1,097 ns an item with the poll and 963
// without, at the same rate (medians of three alternated runs); singles,
// 64 coalesced callers and batches of 16 were unchanged.
const pollAfterMost = 64

// take answers a request that did not decode, or dispatches one that
// did (a batch with frame, the body its items refer into); last says no
// further request is waiting in the read buffer. An error ends the
// connection.
func (c *conn) take(req *wire.Request, err error, frame []byte, first, last bool) error {
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
		return nil
	}
	if first && req.Op.Name != api.OpHello {
		if frame != nil {
			wire.PutFrameBuffer(frame) // wiped: a batch's items may hold plaintext
		}
		c.answerNow(req.Op.Name, req.ID, nil, nil, &api.Error{Code: api.CodeValidation, Message: "the first request on a connection must be Hello"})
		return errors.New("no Hello")
	}
	c.dispatch(req, frame, last)
	return nil
}

// acquire takes u units for one request in flight (budget.go): from the
// connection's budget and then its uid's share, waiting while either is
// spent (not for the share with hello: a connection's small first
// frame), and from the server's, noting in c.over whether that passes
// it. Only the reader acquires, so a partial hold never deadlocks: the
// writer gives units back as answers leave. It reports false if the
// connection or the server is ending.
func (c *conn) acquire(u int, hello bool) bool {
	if !c.takeSlots(u) {
		return false
	}
	if hello {
		c.over = c.s.p.ForceUnits(c.caller.P.UID, u)
	} else {
		over, ok := c.s.p.TakeUnits(c.caller.P.UID, u, nil)
		if !ok {
			c.giveSlots(u)
			return false
		}
		c.over = over
	}
	c.cost = u
	c.inflight.Add(1)
	c.busy.Add(1)
	return true
}

// unhold gives back what acquire took for a request that ends unread
// (the connection failed inside its body).
func (c *conn) unhold() {
	c.giveSlots(c.cost)
	c.s.p.GiveUnits(c.caller.P.UID, c.cost)
	c.busy.Add(-1)
	c.inflight.Done()
}

// refuse answers ThrottlingException to a request past the server's
// budget, of which only head (the body's first bytes) was kept, and
// records it. A connection refused its Hello ends.
func (c *conn) refuse(head []byte, first bool) error {
	req, err := wire.RequestHead(head)
	if err != nil {
		c.answerNow("ProtocolError", 0, nil, nil, &api.Error{Code: api.CodeValidation, Message: err.Error()})
		return err
	}
	name := "UnknownOperation"
	if req.Op != nil {
		name = req.Op.Name
	}
	c.s.p.Refused()
	if req.Type == wire.TypeBatchRequest {
		c.record(name, req.ID, nil, nil, pipeline.Throttled())
		frame, _ := wire.AppendBatchResponse(nil, req.ID, nil, pipeline.Throttled())
		c.send(oneFrame(frame, c.cost))
	} else {
		c.answerNow(name, req.ID, nil, nil, pipeline.Throttled())
	}
	if first {
		return errors.New("the first request was not a valid Hello")
	}
	return nil
}

// protocolError answers a frame that cannot be read, before the
// connection is closed.
func (c *conn) protocolError(err error) {
	if c.acquire(1, true) {
		c.respond(0, 1, nil, &api.Error{Code: api.CodeValidation, Message: err.Error()})
	}
}

// record writes the record of a request the connection itself answers
// (Hello, Status, errors before any work, throttling); it reports an
// error if the record could not be written.
func (c *conn) record(op string, id uint64, in, out api.Message, werr *api.Error) *api.Error {
	ev := new(audit.Event)
	pipeline.Event(ev, op, c.requestID(id), &c.caller)
	pipeline.Finish(ev, api.Lookup(op), nil, in, out, werr)
	return c.s.p.Record(ev)
}

// answerNow records and answers a request the connection itself handles.
// Only the reader calls it, for the request it is on.
func (c *conn) answerNow(op string, id uint64, in, out api.Message, werr *api.Error) {
	if aerr := c.record(op, id, in, out, werr); aerr != nil && werr == nil {
		out, werr = nil, aerr
	}
	c.respond(id, c.cost, out, werr)
}

// requestID is the audit request id of request id on this connection.
func (c *conn) requestID(id uint64) string {
	b := make([]byte, 0, 24)
	b = strconv.AppendUint(b, c.id, 10)
	b = append(b, ':')
	b = strconv.AppendUint(b, id, 10)
	return string(b)
}
