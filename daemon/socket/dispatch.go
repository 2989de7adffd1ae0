package socket

import (
	"time"

	"kmsd/daemon/pipeline"
	"kmsd/wire"
	"kmsd/wire/api"
)

// dispatch sends a decoded request into the pipeline: Hello and Status
// are answered by the connection; anything else is a pipeline.Request
// whose reply is the connection's (respond.go), a batch one per chunk
// whose reply writes into the batch's buffer (batch.go), with frame, the
// body its items refer into. last says no further request is waiting in
// the read buffer: with nothing else in flight on the connection, the
// request is then a lone one, which the pipeline may serve on the reader
// itself (inline), as a synchronous caller's request would otherwise cost
// two goroutine handoffs (to a worker, and from it) that take longer than
// the work; its answer is written in place (send).
func (c *conn) dispatch(req *wire.Request, frame []byte, last bool) {
	c.lastItems = 1
	if req.Type == wire.TypeBatchRequest {
		c.lastItems = req.N
	}
	switch req.Op.Name {
	case api.OpHello:
		in, _ := req.Body.(*api.HelloInput)
		c.answerHello(req.ID, in)
		return
	case api.OpStatus:
		c.answerNow(req.Op.Name, req.ID, req.Body, c.s.cfg.Status(c.caller.Ctx), nil)
		return
	}
	lone := last && c.busy.Load() == 1
	if req.Type == wire.TypeBatchRequest {
		c.dispatchBatch(req, frame, lone)
		return
	}
	r := &single{c: c, id: req.ID, units: c.cost}
	r.r = pipeline.Request{Op: req.Op, Caller: &c.caller, Reply: r, In: req.Body}
	if c.s.cfg.Metrics {
		r.r.Start = time.Now()
	}
	c.s.p.Serve(&r.r, c.over, lone)
}

// dispatchBatch serves a batch request's chunks, the request's frame
// (which its items refer into) going with them; a chunk that finds the
// queue full (or the server over its budget) is answered
// ThrottlingException item by item, and recorded so. One chunk with
// nothing to wait behind may be served on the reader (lone).
func (c *conn) dispatchBatch(req *wire.Request, frame []byte, lone bool) {
	b := newBatchJob(c, req, frame)
	for k := range b.parts {
		lo := k * b.chunk
		hi := min(lo+b.chunk, req.N)
		pt := &b.parts[k]
		pt.sink = chunkSink{b: b, k: k, lo: lo, hi: hi}
		pt.req = pipeline.Request{Op: req.Op, Caller: &c.caller, Reply: &pt.sink, Batch: &b.batch, Lo: lo, Hi: hi}
		c.s.p.Serve(&pt.req, c.over, lone && len(b.parts) == 1)
	}
}
