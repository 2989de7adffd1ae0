package daemon

import (
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"kmsd/daemon/audit"
	"kmsd/daemon/kms"
	"kmsd/wire"
	"kmsd/wire/api"
)

// batchJob is a batch request on its way: its items decoded in place in
// the request's frame, cut into chunks that workers answer in parallel,
// each into a buffer of its own. The chunk done last records the batch
// (a record per group of items alike, see records) and, once the records
// are written, sends the answer: a head and the chunks' buffers, in one
// writev.
type batchJob struct {
	c     *conn
	id    uint64
	op    *api.OpSpec
	req   *wire.Request
	frame []byte // the request's body, which the items refer into
	units int    // the request's in-flight slots

	chunks   [][]byte  // each chunk's answers
	outcomes []outcome // each item's
	left     atomic.Int32
}

// outcome is what became of one item, for its audit record.
type outcome struct {
	rep     *kms.Report // its group's; nil if it never reached one
	code    string      // its exception; "" on success
	in, out int32       // payload bytes
}

// batchChunk is how many items of a batch one job carries: a large batch
// is shared by every worker, a small one stays whole.
const batchChunk = 128

// chunkBuffers are the buffers chunks answer into, wiped when given back.
var chunkBuffers = sync.Pool{New: func() any { return new([]byte) }}

func newBatchJob(c *conn, req *wire.Request, frame []byte) *batchJob {
	chunks := (req.N + batchChunk - 1) / batchChunk
	b := &batchJob{c: c, id: req.ID, op: req.Op, req: req, frame: frame, units: c.cost,
		chunks: make([][]byte, chunks), outcomes: make([]outcome, req.N)}
	b.left.Store(int32(chunks))
	return b
}

// runChunk answers items [lo, hi) of b (chunk k) through the key service,
// and reports whether it was the last chunk to be done.
func (s *Server) runChunk(b *batchJob, k, lo, hi int) bool {
	p := chunkBuffers.Get().(*[]byte)
	sink := &chunkSink{b: b, lo: lo, buf: (*p)[:0]}
	ctx := b.c.ctx
	switch in := b.req.Inputs.(type) {
	case []api.EncryptInput:
		in = in[lo:hi]
		for i := range in {
			sink.b.outcomes[lo+i].in = int32(len(in[i].Plaintext))
		}
		s.cfg.Service.EncryptBatch(ctx, in, sink)
	case []api.DecryptInput:
		in = in[lo:hi]
		for i := range in {
			sink.b.outcomes[lo+i].in = int32(len(in[i].CiphertextBlob))
		}
		s.cfg.Service.DecryptBatch(ctx, in, sink)
	case []api.ReEncryptInput:
		in = in[lo:hi]
		for i := range in {
			sink.b.outcomes[lo+i].in = int32(len(in[i].CiphertextBlob))
		}
		s.cfg.Service.ReEncryptBatch(ctx, in, sink)
	case []api.GenerateDataKeyInput:
		s.cfg.Service.GenerateDataKeyBatch(ctx, b.op.Name, in[lo:hi], sink)
	default: // DecodeRequest refuses batches of other operations
		for i := range hi - lo {
			sink.Fail(i, nil, &api.Error{Code: api.CodeValidation, Message: b.op.Name + " cannot be batched"})
		}
	}
	b.chunks[k] = sink.buf
	return b.left.Add(-1) == 0
}

// chunkSink writes a chunk's answers, sealed in place.
type chunkSink struct {
	b   *batchJob
	lo  int
	buf []byte
}

func (k *chunkSink) Answer(i int, rep *kms.Report, out api.Message, f kms.Fill) error {
	var err error
	if k.buf, err = wire.AppendItemFill(k.buf, out, f.Len(), f.AppendTo); err != nil {
		return err
	}
	o := &k.b.outcomes[k.lo+i]
	o.rep, o.out = rep, int32(f.Len())
	if d, ok := out.(*api.GenerateDataKeyOutput); ok {
		o.out += int32(len(d.Plaintext))
	}
	return nil
}

func (k *chunkSink) Fail(i int, rep *kms.Report, err error) {
	werr := wireError(err)
	k.buf = wire.AppendItem(k.buf, nil, werr)
	o := &k.b.outcomes[k.lo+i]
	o.rep, o.code = rep, werr.Code
}

// wireError is err as an answer: itself if it is one, else
// KMSInternalException.
func wireError(err error) *api.Error {
	var we *api.Error
	if errors.As(err, &we) {
		return we
	}
	return &api.Error{Code: api.CodeInternal, Message: "the request failed inside kmsd; the daemon log has the cause"}
}

// fail answers items [lo, hi) of b (chunk k) with werr, and reports
// whether it was the last chunk.
func (b *batchJob) fail(k, lo, hi int, werr *api.Error) bool {
	p := chunkBuffers.Get().(*[]byte)
	buf := (*p)[:0]
	for i := lo; i < hi; i++ {
		buf = wire.AppendItem(buf, nil, werr)
		b.outcomes[i].code = werr.Code
	}
	b.chunks[k] = buf
	return b.left.Add(-1) == 0
}

// records are the audit records of a batch: one per group of items alike
// in key, operation, context and outcome, with their count, their sizes
// and, for a failure, their indexes.
func (b *batchJob) records() []*audit.Event {
	type groupKey struct {
		rep  *kms.Report
		code string
	}
	var evs []*audit.Event
	index := map[groupKey]*audit.Event{}
	var last groupKey
	var lastEv *audit.Event
	now := time.Now()
	rid := b.c.requestID(b.id)
	for i := range b.outcomes {
		o := &b.outcomes[i]
		k := groupKey{o.rep, o.code}
		ev := lastEv
		if k != last || ev == nil {
			if ev = index[k]; ev == nil {
				ev = &audit.Event{Time: now, Type: audit.TypeCall, Name: b.op.Name, RequestID: rid,
					Caller: callerOf(b.c.p, b.c.principal), Error: o.code}
				if o.rep != nil {
					report(ev, o.rep)
				}
				index[k] = ev
				evs = append(evs, ev)
			}
			last, lastEv = k, ev
		}
		ev.Count++
		ev.InBytes += int(o.in)
		ev.OutBytes += int(o.out)
		if o.code != "" {
			ev.Failed = append(ev.Failed, i)
		}
	}
	return evs
}

// answer sends the batch's answer, or err for all of it (the records could
// not be written, or the answer is too large for a frame), and gives the
// request's frame and the chunks' buffers back, wiped.
func (b *batchJob) answer(failed *api.Error) {
	b.wipeFrame()
	if failed == nil {
		n := 0
		for _, c := range b.chunks {
			n += len(c)
		}
		head := wire.AppendBatchResponseHead(nil, b.id, b.req.N)
		if err := wire.FinishBatchResponse(head, 0, n); err == nil {
			b.c.send(outFrame{b: head, more: b.chunks, units: b.units, done: b.giveBack})
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
		b.frame, b.req.Inputs = nil, nil
	}
}

// giveBack wipes the chunks' buffers and returns them to their pool.
func (b *batchJob) giveBack() {
	for i, c := range b.chunks {
		clear(c)
		c = c[:0]
		chunkBuffers.Put(&c)
		b.chunks[i] = nil
	}
}
