package client

import (
	"kmsd/wire"
	"kmsd/wire/api"
	"runtime"
	"sync/atomic"
)

// sendLoop writes queued calls, coalescing those of one batchable
// operation into batch frames, one write per pass.
func (cc *clientConn) sendLoop(ids *atomic.Uint64) {
	var buf []byte
	batch := make([]*call, 0, 64)
	for {
		var first *call
		select {
		case first = <-cc.sendq:
		case <-cc.dead:
			cc.drainQueue()
			return
		}
		batch = cc.gather(append(batch[:0], first))
		buf = buf[:0]
		var err error
		for len(batch) > 0 {
			if batch[0].raw != nil {
				buf = append(buf, batch[0].raw...)
				wire.PutFrameBuffer(batch[0].raw) // wiped: it held plaintexts
				batch = batch[1:]
				continue
			}
			// Take the first call and every later call of the same batchable op.
			group, rest := split(batch, cc.max)
			buf, err = cc.appendGroup(buf, ids, group)
			if err != nil {
				for _, cl := range group {
					cc.forget(cl, err)
				}
			}
			batch = rest
		}
		if len(buf) > 0 {
			cc.wmu.Lock()
			_, err := cc.w.Write(buf)
			cc.wmu.Unlock()
			clear(buf) // it may hold plaintext
			if err != nil {
				cc.fail(err)
			}
		}
		if cap(buf) > 1<<20 {
			buf = nil
		}
	}
}

// gather adds to batch the calls queued behind it. It yields first, so
// that callers woken together (by one batch answer) queue their next call
// before the frame leaves, and keeps yielding while that brings more calls
// and an answer is awaited anyway (so waiting costs the callers nothing
// kmsd is not already making them wait). A yield, never a timer: a lone
// call leaves at once.
func (cc *clientConn) gather(batch []*call) []*call {
	for range maxYields {
		runtime.Gosched()
		n := len(batch)
		batch = cc.drain(batch)
		if len(batch) == n || len(batch) >= 4*cc.max || !cc.awaiting() {
			break
		}
	}
	return batch
}

// maxYields bounds the yields of one gather.
const maxYields = 8

// drain appends the calls queued now, without waiting.
func (cc *clientConn) drain(batch []*call) []*call {
	for len(batch) < 4*cc.max {
		select {
		case cl := <-cc.sendq:
			batch = append(batch, cl)
		default:
			return batch
		}
	}
	return batch
}

// awaiting reports whether a request sent is not yet answered.
func (cc *clientConn) awaiting() bool {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	return len(cc.pending) > 0
}

// sendNow writes cl's request on the caller's goroutine, and reports
// true, when the connection has nothing else pending, queued or being
// written: a synchronous caller's request then leaves without a handoff to
// the sender (which would cost more than the write). Concurrent callers
// find the connection busy and queue, so they still share batch frames.
func (cc *clientConn) sendNow(cl *call, ids *atomic.Uint64) bool {
	if len(cc.sendq) != 0 || !cc.wmu.TryLock() {
		return false
	}
	defer cc.wmu.Unlock()
	cc.mu.Lock()
	idle := len(cc.pending) == 0 && cc.err == nil
	cc.mu.Unlock()
	if !idle {
		return false
	}
	buf, err := cc.appendGroup(cc.dbuf[:0], ids, []*call{cl})
	if err != nil {
		cc.forget(cl, err)
		return true
	}
	_, err = cc.w.Write(buf)
	clear(buf) // it may hold plaintext
	if cap(buf) <= 64<<10 {
		cc.dbuf = buf
	}
	if err != nil {
		cc.fail(err)
	}
	return true
}

// split takes from calls the first call and, if its operation can be
// batched, up to most calls of the same operation; it returns them and the
// calls left, in order.
func split(calls []*call, most int) (group, rest []*call) {
	op := calls[0].op
	if !op.Batch || most <= 1 {
		return calls[:1:1], calls[1:]
	}
	for _, cl := range calls {
		if cl.raw == nil && cl.op == op && len(group) < most {
			group = append(group, cl)
		} else {
			rest = append(rest, cl)
		}
	}
	return group, rest
}

func (cc *clientConn) appendGroup(buf []byte, ids *atomic.Uint64, group []*call) ([]byte, error) {
	id := ids.Add(1)
	cc.mu.Lock()
	if cc.pending == nil {
		cc.mu.Unlock()
		return buf, cc.err
	}
	cc.addPending(id, pendingReq{op: group[0].op, calls: group})
	for _, cl := range group {
		cl.sent = true // under mu: the reader takes mu before finishing the call
	}
	cc.mu.Unlock()
	var err error
	if len(group) == 1 {
		buf, err = wire.AppendRequest(buf, id, group[0].op.Name, group[0].in)
	} else {
		items := make([]api.Message, len(group))
		for i, cl := range group {
			items[i] = cl.in
		}
		buf, err = wire.AppendBatchRequest(buf, id, group[0].op.Name, items)
	}
	if err != nil {
		cc.mu.Lock()
		cc.takePending(id)
		cc.mu.Unlock()
		return buf, err
	}
	return buf, nil
}

func (cc *clientConn) forget(cl *call, err error) { cl.finish(nil, err) }

// writeRaw queues an encoded frame whose request is already pending. The
// frame is the sender's from then on: it copies it out, then wipes it and
// gives it back to the pool (wire.PutFrameBuffer), as it does one it
// never sends.
func (cc *clientConn) writeRaw(frame []byte) {
	cl := &call{raw: frame, done: make(chan struct{})}
	select {
	case cc.sendq <- cl:
	case <-cc.dead:
		wire.PutFrameBuffer(frame)
	}
}

func (cc *clientConn) drainQueue() {
	for {
		select {
		case cl := <-cc.sendq:
			if cl.raw == nil {
				cl.finish(nil, cc.err)
			} else {
				wire.PutFrameBuffer(cl.raw)
			}
		default:
			return
		}
	}
}
