package daemon

import (
	"time"

	"kmsd/wire"
	"kmsd/wire/api"

	"golang.org/x/sys/unix"
)

// outFrame is a response frame and the slots its request took.
type outFrame struct {
	b     []byte
	units int
}

// respond encodes one response and hands it to the writer, which returns
// the request's units slots. It never blocks: every request in flight has
// a place in c.out.
func (c *conn) respond(id uint64, units int, out api.Message, werr *api.Error) {
	c.send(outFrame{c.encode(id, out, werr), units})
}

// send answers a request. When nothing else is being written or waits to
// be, it tries to write the frame at once, on the caller's goroutine, with
// one non-blocking write: that saves the handoff to the writer, which is
// most of a synchronous caller's round trip. What the socket does not take
// at once (a client slow to read) is left first in the writer's buffer for
// the writer to flush, and anything else is queued for the writer, which
// writes all that is queued together. So send never blocks: not on the
// client (the trail's goroutine and the workers call it), and not on
// another request (the channel has room for every request in flight).
func (c *conn) send(f outFrame) {
	if len(c.out) == 0 && c.wmu.TryLock() {
		if c.wfailed == nil && c.rest == nil && c.w.Buffered() == 0 {
			n := c.tryWrite(f.b)
			if n == len(f.b) {
				clear(f.b)
				c.flushed(f.units, 1)
				c.wmu.Unlock()
				return
			}
			// Part of the frame is on the wire: the rest must follow
			// before anything else, so it waits in rest for the writer.
			c.rest = append([]byte(nil), f.b[n:]...)
			clear(f.b)
			f.b = nil // this tells the writer to write rest and return the slots
		}
		c.wmu.Unlock()
	}
	c.out <- f
}

// tryWrite writes what the socket takes of b now, without waiting, and
// returns how much that was. The caller holds wmu.
func (c *conn) tryWrite(b []byte) int {
	if c.raw == nil {
		return 0
	}
	n := 0
	c.raw.Write(func(fd uintptr) bool {
		m, err := unix.Write(int(fd), b)
		if err == nil {
			n = m
		}
		return true // one attempt: never wait for the socket
	})
	return n
}

// encode makes the frame of one response and wipes the plaintext the
// response held; the frame itself is wiped once written (or dropped).
func (c *conn) encode(id uint64, out api.Message, werr *api.Error) []byte {
	frame, err := wire.AppendResponse(nil, id, out, werr)
	if out != nil {
		wipeOutput(out)
	}
	if err != nil {
		c.s.log.Error("encoding a response", "err", err)
		frame, _ = wire.AppendResponse(nil, id, nil, &api.Error{Code: api.CodeInternal, Message: "the response could not be encoded"})
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
		frame, _ = wire.AppendBatchResponse(nil, b.id, nil, &api.Error{Code: api.CodeValidation, Message: "the batch's response exceeds the frame limit; send fewer or smaller items"})
	}
	c.send(outFrame{frame, b.units})
}

// writeLoop writes response frames, as many as are ready per flush. After
// a write fails it keeps taking frames (dropping them) so that nothing
// waits on it.
func (c *conn) writeLoop() {
	for frame := range c.out {
		c.wmu.Lock()
		n, u := 1, frame.units
		c.writeFrame(frame)
	more:
		for {
			select {
			case f, ok := <-c.out:
				if !ok {
					break more
				}
				c.writeFrame(f)
				n++
				u += f.units
			default:
				break more
			}
		}
		c.flushed(u, n)
		c.wmu.Unlock()
	}
}

// writeFrame buffers one frame (unless writing has failed) and wipes it.
// The caller holds wmu.
func (c *conn) writeFrame(f outFrame) {
	if c.wfailed == nil {
		c.nc.SetWriteDeadline(time.Now().Add(c.s.cfg.WriteTimeout))
		if c.rest != nil {
			_, c.wfailed = c.w.Write(c.rest)
		}
		if c.wfailed == nil {
			_, c.wfailed = c.w.Write(f.b)
		}
	}
	clear(c.rest)
	c.rest = nil
	clear(f.b)
}

// flushed flushes what writeFrame buffered and then returns the units
// slots and the n requests those frames answered. The caller holds wmu.
func (c *conn) flushed(units, n int) {
	if c.wfailed == nil {
		c.wfailed = c.w.Flush()
		if c.wfailed != nil {
			c.nc.Close() // the reader stops too
		}
	}
	for range units {
		<-c.slots
	}
	c.s.held.Add(int64(-units))
	c.busy.Add(int32(-n))
	for range n {
		c.inflight.Done()
	}
}
