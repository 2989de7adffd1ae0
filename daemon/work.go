package daemon

import (
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"kmsd/daemon/audit"
	"kmsd/daemon/kms"
	"kmsd/wire"
	"kmsd/wire/api"
)

// job is one request, or one chunk of a batch request, waiting for a worker.
type job struct {
	c  *conn
	id uint64
	op *api.OpSpec
	in api.Message // a single request

	b      *batchJob // a chunk of a batch: items b.items[lo:hi]
	lo, hi int
	units  int // the request's in-flight slots (single requests)
}

// batchJob collects the results of a batch request's chunks; the chunk
// that finishes last sends the response.
type batchJob struct {
	c       *conn
	id      uint64
	op      *api.OpSpec
	items   []api.Message
	results []wire.Result
	left    atomic.Int32 // chunks not yet done
	units   int          // the request's in-flight slots
}

// batchChunk is how many items of a batch one job carries: a large batch
// is shared by every worker, a small one stays whole. Each chunk is one
// audit record (a batch record, see audit.Fold).
const batchChunk = 128

// maxCoalesce is the most jobs a worker takes in one pass.
const maxCoalesce = 64

// pool is a bounded queue and the workers that serve it.
type pool struct {
	q  chan *job
	wg sync.WaitGroup
}

func newPool(workers, size int, run func([]*job)) *pool {
	p := &pool{q: make(chan *job, size)}
	for range workers {
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			batch := make([]*job, 0, maxCoalesce)
			for j := range p.q {
				// Take what is queued now, without waiting for more (one
				// yield lets readers woken with it queue their requests).
				batch = append(batch[:0], j)
				runtime.Gosched()
			drain:
				for len(batch) < maxCoalesce {
					select {
					case j, ok := <-p.q:
						if !ok {
							break drain
						}
						batch = append(batch, j)
					default:
						break drain
					}
				}
				run(batch)
				clear(batch)
			}
		}()
	}
	return p
}

// submit queues j, or reports false at once if the queue is full.
func (p *pool) submit(j *job) bool {
	select {
	case p.q <- j:
		return true
	default:
		return false
	}
}

func (p *pool) depth() int { return len(p.q) }

// stop lets the workers finish what is queued and waits for them. Nothing
// may be submitted after it is called.
func (p *pool) stop() {
	close(p.q)
	p.wg.Wait()
}

// inlineBatchAnswer is the largest batch whose answer is encoded and sent
// by whoever completes it (a worker, or the trail's goroutine once the
// batch's records are flushed): up to it (the client's coalesced frames)
// that costs less than starting a goroutine to do it, which measured 15%
// of the rate of 64 coalesced callers and 10% of batches of 256.
const inlineBatchAnswer = 256

// run serves jobs a worker took together (see runJobs).
func (s *Server) run(jobs []*job) { s.runJobs(jobs, false) }

// runJobs works on jobs taken together, encodes the answers of single
// requests, hands all their audit records to the trail as one group and
// returns: the answers leave when the group is written (by commit); if
// it cannot be, they are wiped and errors leave instead. inline says the
// caller is a connection's reader serving a lone request, which may as
// well write the records itself (audit.Writer.AppendNow) as wait for the
// trail's goroutine to.
func (s *Server) runJobs(jobs []*job, inline bool) {
	if werr := s.ready(); werr != nil {
		for _, j := range jobs {
			s.failJob(j, werr)
		}
		return
	}
	p := s.work(slices.Clone(jobs)) // the pool reuses its slice once run returns
	if s.cfg.Audit == nil {
		p.commit(nil)
		return
	}
	appendTo := s.cfg.Audit.AppendAsync
	if inline {
		appendTo = s.cfg.Audit.AppendNow
	}
	appendTo(p.records, func(err error) {
		if err != nil {
			p.commit(auditDown())
			return
		}
		p.commit(nil)
	})
}

// pass is the work of one runJobs: its jobs, the encoded answers of its
// single requests, and its audit records (one per single request, a
// batch record per chunk).
type pass struct {
	s       *Server
	jobs    []*job
	frames  [][]byte
	records []*audit.Event
}

// work calls the service for every request of jobs and makes the pass's
// answers and records.
func (s *Server) work(jobs []*job) *pass {
	n := 0
	for _, j := range jobs {
		n++
		if j.b != nil {
			n += j.hi - j.lo - 1
		}
	}
	// One allocation each for the pass's items' facts.
	events := make([]audit.Event, n)
	reports := make([]kms.Report, n)
	ptrs := make([]*audit.Event, n) // &events[i], for batch records
	p := &pass{s: s, jobs: jobs, frames: make([][]byte, len(jobs)), records: make([]*audit.Event, 0, len(jobs))}
	next := 0
	item := func(c *conn, op *api.OpSpec, id uint64, index int, in api.Message) (*audit.Event, api.Message, *api.Error) {
		ev, rep := &events[next], &reports[next]
		ptrs[next] = ev
		next++
		c.fillEvent(ev, op.Name, id, index)
		out, werr := s.call(kms.WithReport(c.ctx, rep), op, in)
		finish(ev, rep, in, out, werr)
		return ev, out, werr
	}
	for k, j := range jobs {
		if j.b == nil {
			ev, out, werr := item(j.c, j.op, j.id, -1, j.in)
			p.records = append(p.records, ev)
			p.frames[k] = j.c.encode(j.id, out, werr)
			continue
		}
		b := j.b
		from := next
		for i := j.lo; i < j.hi; i++ {
			_, out, werr := item(j.c, b.op, b.id, i, b.items[i])
			b.results[i] = wire.Result{Out: out, Err: werr}
		}
		p.records = append(p.records, audit.Fold(j.c.requestID(b.id), ptrs[from:next], j.lo))
	}
	return p
}

// commit answers the pass's requests once their records are written, or
// with failed instead (their outputs wiped) if they could not be.
func (p *pass) commit(failed *api.Error) {
	for k, j := range p.jobs {
		switch {
		case failed != nil:
			clear(p.frames[k])
			p.s.failJob(j, failed)
		case j.b == nil:
			j.c.send(outFrame{p.frames[k], j.units})
		case j.b.left.Add(-1) == 0:
			if len(j.b.items) <= inlineBatchAnswer {
				j.b.c.respondBatch(j.b)
			} else {
				go j.b.c.respondBatch(j.b) // a large batch is not encoded on the trail's goroutine
			}
		}
	}
}

// failJob answers a job, or its part of a batch, with one error; any
// output its items already had is wiped.
func (s *Server) failJob(j *job, werr *api.Error) {
	if j.b == nil {
		j.c.respond(j.id, j.units, nil, werr)
		return
	}
	for i := j.lo; i < j.hi; i++ {
		if out := j.b.results[i].Out; out != nil {
			wipeOutput(out)
		}
		j.b.results[i] = wire.Result{Err: werr}
	}
	if j.b.left.Add(-1) == 0 {
		j.b.c.respondBatch(j.b)
	}
}
