package daemon

import (
	"kmsd/wire"
	"kmsd/wire/api"
	"time"
)

// dispatch sends a decoded request where it is served: Hello and Status
// are answered by the connection; a lone crypto request with nothing to
// wait behind is worked on by the reader itself (inline); anything else
// goes to a worker pool (work.go), a batch in chunks the workers share
// (batch.go), with frame, the body its items refer into. last says no
// further request is waiting in the read buffer.
func (c *conn) dispatch(req *wire.Request, frame []byte, last bool) {
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
	if req.Type == wire.TypeBatchRequest {
		c.dispatchBatch(req, frame, p, last)
		return
	}
	c.s.requests.Add(1)
	j := &job{reply: c, id: req.ID, op: req.Op, in: req.Body, units: c.cost}
	if c.s.metrics != nil {
		j.start = time.Now()
	}
	if last && !c.over && req.Op.Crypto && c.busy.Load() == 1 && p.depth() == 0 {
		// Inline: a lone crypto request on a connection with nothing else
		// in flight, and no queue to wait behind: the reader does it, as a
		// synchronous caller's request would otherwise cost two goroutine
		// handoffs (to a worker, and from it) that take longer than the
		// work. It writes the audit record itself when the trail is idle
		// (waiting for its flush, as the caller would) and answers in place
		// (send).
		c.s.runJobs([]*job{j}, true)
		return
	}
	if c.over || !p.submit(j) {
		c.s.throttled.Add(1)
		c.answerNow(req.Op.Name, req.ID, req.Body, nil, throttled())
	}
}

// dispatchBatch queues a batch request's chunks, the request's frame
// (which its items refer into) going with them; a chunk that finds the
// queue full (or the server over its budget) is answered
// ThrottlingException item by item, and recorded so.
func (c *conn) dispatchBatch(req *wire.Request, frame []byte, p *pool, last bool) {
	c.s.batches.Add(1)
	c.s.requests.Add(int64(req.N))
	b := newBatchJob(c, req, frame)
	if len(b.chunks) == 1 && last && !c.over && c.busy.Load() == 1 && p.depth() == 0 {
		// Inline, as a lone request is (see dispatch): one chunk with
		// nothing to wait behind is done by the reader.
		c.s.runJobs([]*job{b.chunkJob(0, 0, req.N)}, true)
		return
	}
	for k, lo := 0, 0; lo < req.N; k, lo = k+1, lo+b.chunk {
		hi := min(lo+b.chunk, req.N)
		if !c.over && p.submit(b.chunkJob(k, lo, hi)) {
			continue
		}
		c.s.throttled.Add(int64(hi - lo))
		if b.fail(k, lo, hi, throttled()) {
			c.s.finishBatch(b)
		}
	}
}
