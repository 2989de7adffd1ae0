package daemon

import (
	"context"

	"kmsd/daemon/policy"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"kmsd/daemon/audit"
	"kmsd/daemon/kms"
	"kmsd/wire/api"
)

// job is what a worker takes: a single request of any front end (op,
// in, and its reply), a chunk of a batch request (b), or a watchdog's
// probe.
type job struct {
	op *api.OpSpec
	in api.Message // a single request
	// reply answers a single request, for the front end it came from: the
	// socket's connection, or another front end's waiting call.
	reply replier
	id    uint64    // the request's id on its connection (the socket's)
	units int       // its in-flight units (the socket's)
	frame []byte    // its answer, encoded by prepare (the socket's)
	start time.Time // when it was read (with metrics on)

	b      *batchJob // a chunk of a batch: chunk k, items [lo, hi)
	k      int
	lo, hi int

	probe chan struct{} // a watchdog's probe (watchdog.go): closed when a worker takes it
}

// replier answers single requests for a front end. A worker learns from
// it who asks (who, rid), hands it the result (prepare, on the
// worker: the socket encodes its answer there), and, once the request's
// record is written, has it answer (commit; with failed, the error that
// answers instead because the record could not be written). fail answers
// a request that was never worked on.
type replier interface {
	who() *caller
	rid(j *job) string
	prepare(j *job, out api.Message, werr *api.Error)
	commit(j *job, failed *api.Error)
	fail(j *job, werr *api.Error)
}

// caller is who a request comes from: the context the service reads the
// principal from, the principal, and its name in records and usage.
type caller struct {
	ctx       context.Context
	p         *policy.Principal
	principal string
}

// maxCoalesce is the most jobs a worker takes in one pass.
const maxCoalesce = 64

// pool is a bounded queue and the workers that serve it.
type pool struct {
	q      chan *job
	wg     sync.WaitGroup
	passes atomic.Uint64 // passes the workers have finished
}

func newPool(workers, size int, run func([]*job)) *pool {
	p := &pool{q: make(chan *job, size)}
	for range workers {
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			batch := make([]*job, 0, maxCoalesce)
			for j := range p.q {
				if j.probe != nil {
					close(j.probe)
					continue
				}
				// Take what is queued now, without waiting for more (one
				// yield lets readers woken with it queue their requests).
				batch = append(batch[:0], j)
				runtime.Gosched()
			drain:
				for len(batch) < maxCoalesce {
					select {
					case j, ok := <-p.q:
						switch {
						case !ok:
							break drain
						case j.probe != nil:
							close(j.probe)
						default:
							batch = append(batch, j)
						}
					default:
						break drain
					}
				}
				run(batch)
				clear(batch)
				p.passes.Add(1)
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

// inlineBatchAnswer is the largest batch whose answer is sent by whoever
// completes it (the trail's goroutine, once the batch's records are
// written): a larger one's writev is left to a goroutine of its own.
const inlineBatchAnswer = 256

// run serves jobs a worker took together (see runJobs).
func (s *Server) run(jobs []*job) { s.runJobs(jobs, false) }

// runJobs works on jobs taken together. A chunk of a batch is answered
// into its own buffer, and the chunk done last has the batch recorded and
// answered (finishBatch). Single requests are worked on as one pass: their
// answers encoded, their audit records handed to the trail as one group;
// the answers leave when the group is written (commit), or, if it cannot
// be, are wiped and errors leave instead. inline says the caller is a
// connection's reader serving a lone request, which may as well write the
// records itself (audit.Writer.AppendNow) as wait for the trail's
// goroutine to.
func (s *Server) runJobs(jobs []*job, inline bool) {
	if werr := s.ready(); werr != nil {
		for _, j := range jobs {
			s.failJob(j, werr)
		}
		return
	}
	singles := jobs[:0:0]
	for _, j := range jobs {
		if j.b == nil {
			singles = append(singles, j)
		} else if s.runChunk(j.b, j.k, j.lo, j.hi) {
			s.finishBatch(j.b)
		}
	}
	if len(singles) == 0 {
		return
	}
	p := s.work(singles)
	if s.cfg.Audit == nil {
		s.metrics.observe(p.records)
		p.commit(nil)
		return
	}
	appendTo := s.cfg.Audit.AppendAsync
	if inline {
		appendTo = s.cfg.Audit.AppendNow
	}
	s.metrics.observe(p.records)
	appendTo(s.failures.admit(p.records, time.Now()), func(err error) {
		if err != nil {
			p.commit(auditDown())
			return
		}
		p.commit(nil)
	})
}

// finishBatch records a batch whose chunks are all done, and once the
// records are written answers it (or, if they cannot be, fails it whole).
// The request's frame is wiped first: nothing refers into it any more.
func (s *Server) finishBatch(b *batchJob) {
	evs := b.records()
	b.wipeFrame()
	if s.cfg.Audit == nil {
		s.metrics.observe(evs)
		b.answer(nil)
		return
	}
	appendTo := s.cfg.Audit.AppendAsync
	if s.cfg.Audit.Deferred() {
		appendTo = s.cfg.Audit.AppendNow // a write to the page cache: cheaper than a handoff
	}
	s.metrics.observe(evs)
	appendTo(s.failures.admit(evs, time.Now()), func(err error) {
		switch {
		case err != nil:
			b.answer(auditDown())
		case b.req.N <= inlineBatchAnswer:
			b.answer(nil)
		default:
			go b.answer(nil) // a large answer's writev is not made on the trail's goroutine
		}
	})
}

// pass is the work of one runJobs: its single requests and their audit
// records.
type pass struct {
	s       *Server
	jobs    []*job
	records []*audit.Event
}

// work calls the service for every request of jobs and makes the pass's
// answers and records.
func (s *Server) work(jobs []*job) *pass {
	// One allocation each for the pass's records and reports.
	events := make([]audit.Event, len(jobs))
	reports := make([]kms.Report, len(jobs))
	p := &pass{s: s, jobs: jobs, records: make([]*audit.Event, len(jobs))}
	for k, j := range jobs {
		ev, rep, who := &events[k], &reports[k], j.reply.who()
		callEvent(ev, j.op.Name, j.reply.rid(j), who.p, who.principal)
		out, werr := s.call(kms.WithReport(who.ctx, rep), j.op, j.in)
		finish(ev, j.op, rep, j.in, out, werr)
		p.records[k] = ev
		j.reply.prepare(j, out, werr)
	}
	return p
}

// commit answers the pass's requests once their records are written, or
// with failed instead (their outputs wiped) if they could not be.
func (p *pass) commit(failed *api.Error) {
	for _, j := range p.jobs {
		if failed == nil { // counted before it leaves: a scrape after the answer sees it
			p.s.metrics.took("single", j.start, 1)
		}
		j.reply.commit(j, failed)
	}
}

// failJob answers a job, or its part of a batch, with one error.
func (s *Server) failJob(j *job, werr *api.Error) {
	if j.b == nil {
		j.reply.fail(j, werr)
		return
	}
	if j.b.fail(j.k, j.lo, j.hi, werr) {
		j.b.wipeFrame()
		j.b.answer(nil) // the trail cannot be written: nothing to record
	}
}
