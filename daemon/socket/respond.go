package socket

import (
	"net"
	"time"

	"kmsd/daemon/pipeline"
	"kmsd/wire"
	"kmsd/wire/api"

	"golang.org/x/sys/unix"
)

// outFrame is a response frame and the slots its request took: b, and
// then, for a batch's answer, the parts that workers wrote, in order. The
// pieces are wiped once written or dropped (they may hold plaintext),
// unless public says they cannot, and then done, if set, is called (to
// give pooled buffers back).
type outFrame struct {
	b      []byte
	more   [][]byte
	units  int
	public bool
	done   func()
}

func oneFrame(b []byte, units int) outFrame { return outFrame{b: b, units: units} }

// size is the frame's length.
func (f outFrame) size() int {
	n := len(f.b)
	for _, s := range f.more {
		n += len(s)
	}
	return n
}

// release wipes the frame's pieces and calls done.
func (f outFrame) release() {
	clear(f.b)
	for _, s := range f.more {
		if !f.public {
			clear(s)
		}
	}
	if f.done != nil {
		f.done()
	}
}

// single is a single request of the connection, and its reply
// (pipeline.Single): the worker encodes the answer into it (Prepare), and
// the answer leaves once its record is written (Commit), in place when
// the socket takes it.
type single struct {
	r     pipeline.Request
	c     *conn
	id    uint64 // the request's id on the connection
	units int    // its in-flight units
	frame []byte // its answer, encoded by Prepare
}

func (r *single) RequestID() string { return r.c.requestID(r.id) }

func (r *single) Prepare(out api.Message, werr *api.Error) {
	r.frame = r.c.encode(r.id, out, werr)
}

func (r *single) Commit(failed *api.Error) {
	if failed != nil {
		clear(r.frame)
		r.frame = nil
		r.c.respond(r.id, r.units, nil, failed)
		return
	}
	r.c.send(oneFrame(r.frame, r.units))
}

func (r *single) Reject(werr *api.Error) { r.c.respond(r.id, r.units, nil, werr) }

// respond encodes one response and hands it to the writer, which returns
// the request's units slots. It never blocks: every request in flight has
// a place in c.out.
func (c *conn) respond(id uint64, units int, out api.Message, werr *api.Error) {
	c.send(oneFrame(c.encode(id, out, werr), units))
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
		if c.wfailed == nil && !c.tailed && c.w.Buffered() == 0 {
			n := c.tryWrite(f)
			if n == f.size() {
				f.release()
				c.flushed(f.units, 1)
				c.wmu.Unlock()
				return
			}
			if n == 0 {
				c.wmu.Unlock()
				c.out <- f
				return
			}
			// Part of the frame is on the wire: the rest must follow
			// before anything else, so it waits in tail for the writer,
			// which a frame of no bytes (with the slots) wakes.
			c.tail, c.tailOff, c.tailed = f, n, true
			f = outFrame{units: f.units}
		}
		c.wmu.Unlock()
	}
	c.out <- f
}

// tryWrite writes what the socket takes of f now, in one write (a writev
// for a frame in parts) and without waiting, and returns how much that
// was. The caller holds wmu.
func (c *conn) tryWrite(f outFrame) int {
	if c.ring != nil {
		if c.ring.TryWritev(append([][]byte{f.b}, f.more...)) {
			return f.size()
		}
		return 0
	}
	if c.raw == nil {
		return 0
	}
	n := 0
	c.raw.Write(func(fd uintptr) bool {
		var m int
		var err error
		if f.more == nil {
			m, err = unix.Write(int(fd), f.b)
		} else {
			m, err = unix.Writev(int(fd), append([][]byte{f.b}, f.more...))
		}
		if err == nil {
			n = m
		}
		return true // one attempt: never wait for the socket
	})
	return n
}

// after returns the pieces of f that follow its first n bytes.
func after(f *outFrame, n int) net.Buffers {
	var bufs net.Buffers
	for _, p := range append([][]byte{f.b}, f.more...) {
		if n >= len(p) {
			n -= len(p)
			continue
		}
		bufs = append(bufs, p[n:])
		n = 0
	}
	return bufs
}

// encode makes the frame of one response and wipes the plaintext the
// response held; the frame itself is wiped once written (or dropped).
func (c *conn) encode(id uint64, out api.Message, werr *api.Error) []byte {
	frame, err := wire.AppendResponse(nil, id, out, werr)
	if out != nil {
		api.WipeOutput(out)
	}
	if err != nil {
		c.s.log.Error("encoding a response", "err", err)
		frame, _ = wire.AppendResponse(nil, id, nil, &api.Error{Code: api.CodeInternal, Message: "the response could not be encoded"})
	}
	return frame
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

// directWrite is the size from which a piece of a frame is written
// straight to the socket (after what is buffered), not copied into the
// writer's buffer first.
const directWrite = 16 << 10

// writeFrame buffers one frame (unless writing has failed) and wipes it;
// a frame send began is finished first, and large pieces are written
// directly. The caller holds wmu.
func (c *conn) writeFrame(f outFrame) {
	if c.ring != nil {
		if c.wfailed == nil {
			c.ring.SetWriteDeadline(time.Now().Add(c.s.cfg.WriteTimeout))
			_, c.wfailed = c.ring.Writev(append([][]byte{f.b}, f.more...))
		}
		f.release()
		return
	}
	if c.wfailed == nil {
		c.nc.SetWriteDeadline(time.Now().Add(c.s.cfg.WriteTimeout))
	}
	if c.tailed {
		if c.wfailed == nil {
			bufs := after(&c.tail, c.tailOff)
			_, c.wfailed = bufs.WriteTo(c.nc)
		}
		c.tail.release()
		c.tail, c.tailed = outFrame{}, false
	}
	for _, p := range append([][]byte{f.b}, f.more...) {
		switch {
		case c.wfailed != nil:
		case len(p) >= directWrite:
			if c.wfailed = c.w.Flush(); c.wfailed == nil {
				_, c.wfailed = c.nc.Write(p)
			}
		default:
			_, c.wfailed = c.w.Write(p)
		}
	}
	f.release()
}

// flushed flushes what writeFrame buffered and then returns the units
// slots and the n requests those frames answered. The caller holds wmu.
func (c *conn) flushed(units, n int) {
	if c.wfailed == nil {
		c.wfailed = c.w.Flush()
	}
	if c.wfailed != nil && !c.closedOnFail {
		c.closedOnFail = true
		if c.ring != nil {
			c.ring.Close(c.wfailed)
		}
		c.nc.Close() // the reader stops too
	}
	c.giveSlots(units)
	c.s.p.GiveUnits(c.caller.P.UID, units)
	c.busy.Add(int32(-n))
	for range n {
		c.inflight.Done()
	}
}
