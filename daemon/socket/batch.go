package socket

import (
	"sync"
	"time"

	"kmsd/daemon/kms"
	"kmsd/daemon/pipeline"
	"kmsd/wire"
	"kmsd/wire/api"
)

// batchJob is a batch request on its way: its items decoded in place in
// the request's frame, cut into chunks (pipeline.Batch) that workers
// answer in parallel, each into a buffer of its own (chunkSink). Once the
// pipeline has recorded the batch, answer sends it: a head and the
// chunks' buffers, in one writev.
type batchJob struct {
	batch pipeline.Batch
	c     *conn
	id    uint64
	op    *api.OpSpec
	req   *wire.Request
	frame []byte // the request's body, which the items refer into
	units int    // the request's in-flight slots
	chunk int    // items per chunk (the last may have fewer)

	chunks [][]byte // each chunk's answers
	parts  []part   // each chunk's request, sink and pooled buffer
}

// part is what one chunk needs, allocated with the others at once.
type part struct {
	req  pipeline.Request
	sink chunkSink
	buf  *[]byte // from chunkBuffers: the chunk's answers are appended to *buf
}

// chunkBuffers are the buffers chunks answer into, wiped when given back.
var chunkBuffers = sync.Pool{New: func() any { return new([]byte) }}

func newBatchJob(c *conn, req *wire.Request, frame []byte) *batchJob {
	size, chunks := c.s.p.Chunks(req.N)
	b := &batchJob{c: c, id: req.ID, op: req.Op, req: req, frame: frame, units: c.cost, chunk: size,
		chunks: make([][]byte, chunks), parts: make([]part, chunks)}
	var start time.Time
	if c.s.cfg.Metrics {
		start = time.Now()
	}
	c.s.p.StartBatch(&b.batch, req.Op, &c.caller, req.Inputs, req.N, chunks, b, start)
	return b
}

// chunkBuf takes chunk k's buffer from the pool.
func (b *batchJob) chunkBuf(k int) []byte {
	p := chunkBuffers.Get().(*[]byte)
	b.parts[k].buf = p
	return (*p)[:0]
}

// chunkSink is the reply of chunk k, items [lo, hi): it writes the
// chunk's answers, sealed in place, into the chunk's buffer. The buffer
// is the sink's own while the chunk runs (buf), and goes to the batch's
// chunks once every chunk is done (collect): a slice of every chunk's
// buffer, side by side in memory and written by each worker at every
// item, kept a cache line going back and forth between the cores.
type chunkSink struct {
	b      *batchJob
	k      int
	lo, hi int
	buf    []byte
}

// Sink is where the service answers the chunk's items: the sink itself,
// with a buffer from the pool.
func (k *chunkSink) Sink() kms.Sink {
	k.buf = k.b.chunkBuf(k.k)
	return k
}

func (k *chunkSink) Answer(_ int, _ *kms.Report, out api.Message, f kms.Fill) error {
	if !f.Filled() {
		k.buf = wire.AppendItem(k.buf, out, nil)
		return nil
	}
	buf, err := wire.AppendItemFill(k.buf, out, f.Len(), f.AppendTo)
	if err != nil {
		return err
	}
	k.buf = buf
	return nil
}

func (k *chunkSink) Fail(_ int, _ *kms.Report, err error) {
	k.buf = wire.AppendItem(k.buf, nil, pipeline.WireError(err))
}

// Reject answers every item of the chunk with werr, unworked.
func (k *chunkSink) Reject(werr *api.Error) {
	buf := k.b.chunkBuf(k.k)
	for range k.hi - k.lo {
		buf = wire.AppendItem(buf, nil, werr)
	}
	k.buf = buf
}

// collect takes every chunk's buffer into chunks, once all are done.
func (b *batchJob) collect() {
	for k := range b.chunks {
		b.chunks[k], b.parts[k].sink.buf = b.parts[k].sink.buf, nil
	}
}

// RequestID names the batch in its records.
func (b *batchJob) RequestID() string { return b.c.requestID(b.id) }

// inlineBatchAnswer is the largest batch whose answer is sent by whoever
// completes it (the trail's goroutine, once the batch's records are
// written): a larger one's writev is left to a goroutine of its own.
const inlineBatchAnswer = 256

// Answer sends the batch's answer, or failed for all of it (the records
// could not be written, or the answer is too large for a frame), and
// gives the request's frame and the chunks' buffers back, wiped.
func (b *batchJob) Answer(failed *api.Error) {
	b.collect()
	b.wipeFrame()
	if failed == nil && b.req.N > inlineBatchAnswer {
		go b.answer(nil) // a large answer's writev is not made on the trail's goroutine
		return
	}
	b.answer(failed)
}

func (b *batchJob) answer(failed *api.Error) {
	if failed == nil {
		n := 0
		for _, c := range b.chunks {
			n += len(c)
		}
		head := wire.AppendBatchResponseHead(nil, b.id, b.req.N)
		if err := wire.FinishBatchResponse(head, 0, n); err == nil {
			b.c.send(outFrame{b: head, more: b.chunks, units: b.units, public: b.op.WipeOutput == "", done: b.forget})
			return
		}
		failed = &api.Error{Code: api.CodeValidation, Message: "the batch's response exceeds the frame limit; send fewer or smaller items"}
	}
	b.giveBack()
	frame, _ := wire.AppendBatchResponse(nil, b.id, nil, failed)
	b.c.send(oneFrame(frame, b.units))
}

// wipeFrame wipes the request's frame (its items may hold plaintext) and
// gives it back once no item refers into it.
func (b *batchJob) wipeFrame() {
	if b.frame != nil {
		wire.PutFrameBuffer(b.frame)
		b.op.FreeInputs(b.req.Inputs)
		b.frame, b.req.Inputs = nil, nil
	}
}

// giveBack wipes the chunks' buffers and returns them to their pool.
func (b *batchJob) giveBack() {
	for _, c := range b.chunks {
		clear(c)
	}
	b.forget()
}

// forget returns the chunks' buffers to their pool as they are: sent,
// they were wiped already if they needed to be.
func (b *batchJob) forget() {
	for i, c := range b.chunks {
		if p := b.parts[i].buf; p != nil {
			*p = c[:0] // the buffer as it grew
			chunkBuffers.Put(p)
		}
		b.chunks[i], b.parts[i] = nil, part{}
	}
}
