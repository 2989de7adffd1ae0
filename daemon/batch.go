package daemon

import (
	"errors"
	"maps"
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

	start    time.Time // when it was read
	chunk    int       // items per chunk (the last may have fewer)
	chunks   [][]byte  // each chunk's answers
	parts    []part    // each chunk's job, sink and pooled buffer
	outcomes []outcome // each item's
	left     atomic.Int32
}

// part is what one chunk needs, allocated with the others at once.
type part struct {
	job  job
	sink chunkSink
	buf  *[]byte // from chunkBuffers: the chunk's answers are appended to *buf
}

// outcome is what became of one item, for its audit record.
type outcome struct {
	rep     *kms.Report // its group's; nil if it never reached one
	code    string      // its exception; "" on success
	in, out int32       // payload bytes
}

// A batch is cut into chunks of minChunk to maxChunk items, one per
// worker: a large batch is shared by every worker (and the client sends a
// large one as several frames at once), a small one stays whole, and the
// per-chunk costs (the key resolved and authorized once per chunk) stay a
// rounding error beside the items.
const (
	minChunk = 128
	maxChunk = 1024
)

// chunkSize is the chunk of a batch of n items for workers workers.
func chunkSize(n, workers int) int {
	return min(maxChunk, max(minChunk, (n+workers-1)/workers))
}

// chunkBuffers are the buffers chunks answer into, wiped when given back.
var chunkBuffers = sync.Pool{New: func() any { return new([]byte) }}

func newBatchJob(c *conn, req *wire.Request, frame []byte) *batchJob {
	size := chunkSize(req.N, c.s.cfg.Workers)
	chunks := (req.N + size - 1) / size
	b := &batchJob{c: c, id: req.ID, op: req.Op, req: req, frame: frame, units: c.cost, chunk: size, start: time.Now(),
		chunks: make([][]byte, chunks), parts: make([]part, chunks), outcomes: make([]outcome, req.N)}
	b.left.Store(int32(chunks))
	return b
}

// chunkJob is the job of chunk k, items [lo, hi).
func (b *batchJob) chunkJob(k, lo, hi int) *job {
	j := &b.parts[k].job
	*j = job{b: b, k: k, lo: lo, hi: hi}
	return j
}

// chunkBuf takes chunk k's buffer from the pool.
func (b *batchJob) chunkBuf(k int) []byte {
	p := chunkBuffers.Get().(*[]byte)
	b.parts[k].buf = p
	return (*p)[:0]
}

// runChunk answers items [lo, hi) of b (chunk k) through the key service,
// and reports whether it was the last chunk to be done.
func (s *Server) runChunk(b *batchJob, k, lo, hi int) bool {
	sink := &b.parts[k].sink
	*sink = chunkSink{b: b, lo: lo, buf: b.chunkBuf(k)}
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
	buf := b.chunkBuf(k)
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
	var alike reports
	var rep, canon *kms.Report // the last item's report and the one it is alike with
	for i := range b.outcomes {
		o := &b.outcomes[i]
		if o.rep != rep {
			rep, canon = o.rep, alike.canonical(o.rep)
		}
		k := groupKey{canon, o.code}
		ev := lastEv
		if k != last || ev == nil {
			if ev = index[k]; ev == nil {
				ev = new(audit.Event)
				callEvent(ev, b.op.Name, rid, b.c.p, b.c.principal)
				ev.Time, ev.Error = now, o.code
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

// reports finds, for the report of a group of items, the first report
// seen that says the same (each chunk of a batch has groups of its own,
// whose items are alike with those of another chunk's).
type reports []*kms.Report

// maxAlike bounds the reports compared: past it, a report stands alone.
const maxAlike = 64

func (rs *reports) canonical(r *kms.Report) *kms.Report {
	if r == nil {
		return nil
	}
	for _, c := range *rs {
		if c == r || sameReport(c, r) {
			return c
		}
	}
	if len(*rs) < maxAlike {
		*rs = append(*rs, r)
	}
	return r
}

// sameReport reports whether a and b record the same use.
func sameReport(a, b *kms.Report) bool {
	return a.KeyID == b.KeyID && a.KeyVersion == b.KeyVersion && a.SourceKeyID == b.SourceKeyID &&
		a.SourceKeyVersion == b.SourceKeyVersion && a.Alias == b.Alias && a.GrantID == b.GrantID &&
		maps.Equal(a.Context, b.Context) && maps.Equal(a.DestContext, b.DestContext)
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
			// Counted before it leaves: a scrape after the answer sees it.
			b.c.s.metrics.took("batch", b.start, b.req.N)
			b.c.send(outFrame{b: head, more: b.chunks, units: b.units, public: b.public(), done: b.forget})
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

// publicAnswers are the batch operations whose answers hold no secret
// (ciphertext and names only): their chunks need no wiping.
var publicAnswers = map[string]bool{api.OpEncrypt: true, api.OpReEncrypt: true, api.OpGenerateDataKeyWithoutPlaintext: true}

// public reports whether the batch's answers hold no secret.
func (b *batchJob) public() bool { return publicAnswers[b.op.Name] }

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
