package daemon

import (
	"kmsd/daemon/audit"
	"kmsd/wire"
	"kmsd/wire/api"
)

// dispatch sends a decoded request where it is served: Hello and Status
// are answered by the connection; a lone crypto request with nothing to
// wait behind is worked on by the reader itself (inline); anything else
// goes to a worker pool (work.go), a batch in chunks the workers share.
// last says no further request is waiting in the read buffer.
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
	if req.Type == wire.TypeBatchRequest {
		c.dispatchBatch(req, p)
		return
	}
	c.s.requests.Add(1)
	j := &job{c: c, id: req.ID, op: req.Op, in: req.Body, units: c.cost}
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

// dispatchBatch queues a batch request's chunks; a chunk that finds the
// queue full (or the server over its budget) is answered
// ThrottlingException item by item, and recorded so.
func (c *conn) dispatchBatch(req *wire.Request, p *pool) {
	c.s.batches.Add(1)
	c.s.requests.Add(int64(len(req.Items)))
	b := &batchJob{c: c, id: req.ID, op: req.Op, items: req.Items, results: make([]wire.Result, len(req.Items)), units: c.cost}
	b.left.Store(int32((len(req.Items) + batchChunk - 1) / batchChunk))
	for lo := 0; lo < len(req.Items); lo += batchChunk {
		hi := min(lo+batchChunk, len(req.Items))
		if !c.over && p.submit(&job{c: c, b: b, lo: lo, hi: hi}) {
			continue
		}
		evs := make([]*audit.Event, 0, hi-lo)
		for i := lo; i < hi; i++ {
			b.results[i] = wire.Result{Err: throttled()}
			ev := c.newEvent(req.Op.Name, req.ID, i)
			finish(ev, nil, req.Items[i], nil, b.results[i].Err)
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
