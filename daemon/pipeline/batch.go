package pipeline

import (
	"maps"
	"sync/atomic"
	"time"

	"kmsd/daemon/audit"
	"kmsd/daemon/kms"
	"kmsd/wire/api"
)

// Batch is a batch request on its way: its items, cut into chunks that
// workers answer in parallel, each a [Request] whose [Items] reply
// writes into the front end's buffer for the chunk, and what became of
// each item. The chunk done last records the batch (a record per group
// of items alike, see records) and, once the records are written, has
// the front end answer it whole (BatchReply).
type Batch struct {
	op     *api.OpSpec
	caller *Caller
	inputs any // a slice of op's input type
	reply  BatchReply
	start  time.Time

	outcomes []outcome // each item's
	left     atomic.Int32
}

// BatchReply answers a batch whose chunks are all done: Answer, once
// its records are written (failed: they could not be, and that error
// answers the whole batch). RequestID names it in its records.
type BatchReply interface {
	RequestID() string
	Answer(failed *api.Error)
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

// Chunks is how a batch of n items is cut: chunks of size items (the last
// may have fewer).
func (p *Pipeline) Chunks(n int) (size, chunks int) {
	size = chunkSize(n, p.cfg.Workers)
	return size, (n + size - 1) / size
}

// StartBatch begins b, a batch of n items of op (inputs, a slice of
// its input type) cut into chunks (Chunks): b is the front end's to
// place, the pipeline's to fill. Each chunk is then a Request of it,
// served with Serve.
func (p *Pipeline) StartBatch(b *Batch, op *api.OpSpec, c *Caller, inputs any, n, chunks int, reply BatchReply, start time.Time) {
	*b = Batch{op: op, caller: c, inputs: inputs, reply: reply, start: start, outcomes: make([]outcome, n)}
	b.left.Store(int32(chunks))
	p.batches.Add(1)
}

// runChunk answers a chunk's items through the service, each into the
// front end's sink, noting their outcomes; the chunk done last has its
// batch recorded and answered.
func (p *Pipeline) runChunk(r *Request, it Items) {
	b := r.Batch
	for i := r.Lo; i < r.Hi; i++ {
		b.outcomes[i].in = int32(inBytes(r.Op.Input(b.inputs, i)))
	}
	r.outcomes = outcomeSink{b: b, lo: r.Lo, sink: it.Sink()}
	p.cfg.ExecBatch(r.Caller.Ctx, r.Op, b.inputs, r.Lo, r.Hi, &r.outcomes)
	if b.left.Add(-1) == 0 {
		p.finishBatch(b)
	}
}

// outcomeSink passes each item's answer to the front end's sink and notes
// its outcome.
type outcomeSink struct {
	b    *Batch
	lo   int
	sink kms.Sink
}

func (s *outcomeSink) Answer(i int, rep *kms.Report, out api.Message, f kms.Fill) error {
	if err := s.sink.Answer(i, rep, out, f); err != nil {
		return err
	}
	o := &s.b.outcomes[s.lo+i]
	o.rep, o.out = rep, int32(f.Len())
	if d, ok := out.(*api.GenerateDataKeyOutput); ok {
		o.out += int32(len(d.Plaintext))
	}
	return nil
}

func (s *outcomeSink) Fail(i int, rep *kms.Report, err error) {
	s.sink.Fail(i, rep, err)
	o := &s.b.outcomes[s.lo+i]
	o.rep, o.code = rep, WireError(err).Code
}

// finishBatch records a batch whose chunks are all done, and once the
// records are written has it answered (or, if they cannot be, failed
// whole).
func (p *Pipeline) finishBatch(b *Batch) {
	evs := b.records()
	p.observe(evs)
	if p.cfg.Audit == nil {
		p.took("batch", b.start, len(b.outcomes))
		b.reply.Answer(nil)
		return
	}
	appendTo := p.cfg.Audit.AppendAsync
	if p.cfg.Audit.Deferred() {
		appendTo = p.cfg.Audit.AppendNow // a write to the page cache: cheaper than a handoff
	}
	appendTo(p.failures.admit(evs, time.Now()), func(err error) {
		if err != nil {
			b.reply.Answer(AuditDown())
			return
		}
		p.took("batch", b.start, len(b.outcomes)) // before it leaves: a scrape after the answer sees it
		b.reply.Answer(nil)
	})
}

// records are the audit records of a batch: one per group of items alike
// in key, operation, context and outcome, with their count, their sizes
// and, for a failure, their indexes.
func (b *Batch) records() []*audit.Event {
	type groupKey struct {
		rep  *kms.Report
		code string
	}
	var evs []*audit.Event
	index := map[groupKey]*audit.Event{}
	var last groupKey
	var lastEv *audit.Event
	now := time.Now()
	rid := b.reply.RequestID()
	var alike reports
	var rep, canon *kms.Report // the last item's report and the one it is alike with
	var evOf []*audit.Event    // each item's record, for an operation whose records keep params
	if len(b.op.Params) > 0 {
		evOf = make([]*audit.Event, len(b.outcomes))
	}
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
				Event(ev, b.op.Name, rid, b.caller)
				ev.Time, ev.Error = now, o.code
				if o.rep != nil {
					report(ev, o.rep)
				}
				index[k] = ev
				evs = append(evs, ev)
			}
			last, lastEv = k, ev
		}
		if evOf != nil {
			evOf[i] = ev
		}
		ev.Count++
		ev.InBytes += int(o.in)
		ev.OutBytes += int(o.out)
		if o.code != "" {
			ev.Failed = append(ev.Failed, i)
		}
	}
	if evOf != nil {
		batchParams(b.op, b.inputs, evOf)
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
