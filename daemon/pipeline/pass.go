package pipeline

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"kmsd/daemon/audit"
	"kmsd/daemon/kms"
	"kmsd/wire/api"
)

// maxCoalesce is the most requests a worker takes in one pass.
const maxCoalesce = 64

// pool is a bounded queue and the workers that serve it.
type pool struct {
	q      chan *Request
	wg     sync.WaitGroup
	passes atomic.Uint64 // passes the workers have finished
}

func newPool(workers, size int, run func([]*Request)) *pool {
	p := &pool{q: make(chan *Request, size)}
	for range workers {
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			batch := make([]*Request, 0, maxCoalesce)
			for r := range p.q {
				if pr, ok := r.Reply.(probe); ok {
					close(pr)
					continue
				}
				// Take what is queued now, without waiting for more (one
				// yield lets readers woken with it queue their requests).
				batch = append(batch[:0], r)
				runtime.Gosched()
			drain:
				for len(batch) < maxCoalesce {
					select {
					case r, ok := <-p.q:
						if !ok {
							break drain
						}
						if pr, ok := r.Reply.(probe); ok {
							close(pr)
						} else {
							batch = append(batch, r)
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

// submit queues r, or reports false at once if the queue is full.
func (p *pool) submit(r *Request) bool {
	select {
	case p.q <- r:
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

// run serves requests a worker took together (see runJobs).
func (p *Pipeline) run(rs []*Request) { p.runJobs(rs, false) }

// runJobs works on requests taken together. A chunk of a batch is
// answered into its front end's buffer, and the chunk done last has the
// batch recorded and answered (finishBatch). Single requests are worked
// on as one pass: their answers prepared, their audit records handed to
// the trail as one group; the answers leave when the group is written
// (commit), or, if it cannot be, are wiped and errors leave instead.
// inline says the caller serves a lone request on its own goroutine,
// which may as well write the records itself (audit.Writer.AppendNow) as
// wait for the trail's goroutine to.
func (p *Pipeline) runJobs(rs []*Request, inline bool) {
	if werr := p.Ready(); werr != nil {
		for _, r := range rs {
			p.fail(r, werr)
		}
		return
	}
	singles := rs[:0:0]
	for _, r := range rs {
		if it, ok := r.Reply.(Items); ok {
			p.runChunk(r, it)
		} else {
			singles = append(singles, r)
		}
	}
	if len(singles) == 0 {
		return
	}
	ps := p.work(singles)
	p.observe(ps.records)
	if p.cfg.Audit == nil {
		ps.commit(nil)
		return
	}
	appendTo := p.cfg.Audit.AppendAsync
	if inline {
		appendTo = p.cfg.Audit.AppendNow
	}
	appendTo(p.failures.admit(ps.records, time.Now()), func(err error) {
		if err != nil {
			ps.commit(AuditDown())
			return
		}
		ps.commit(nil)
	})
}

// pass is the work of one runJobs: its single requests and their audit
// records.
type pass struct {
	p       *Pipeline
	rs      []*Request
	records []*audit.Event
}

// work executes every request of rs and makes the pass's answers and
// records.
func (p *Pipeline) work(rs []*Request) *pass {
	// One allocation for the pass's records.
	events := make([]audit.Event, len(rs))
	ps := &pass{p: p, rs: rs, records: make([]*audit.Event, len(rs))}
	for k, r := range rs {
		ev, reply := &events[k], r.Reply.(Single)
		Event(ev, r.Op.Name, reply.RequestID(), r.Caller)
		out, rep, werr := p.exec(r)
		Finish(ev, r.Op, &rep, r.In, out, werr)
		ps.records[k] = ev
		reply.Prepare(out, werr)
	}
	return ps
}

// exec executes a single request: a costly one only once its user may
// have it (costly.go).
func (p *Pipeline) exec(r *Request) (api.Message, kms.Report, *api.Error) {
	if !r.Op.Costly {
		return p.cfg.Exec(r.Caller.Ctx, r.Op, r.In)
	}
	uid := r.Caller.P.UID
	if werr := p.costly.take(uid, time.Now()); werr != nil {
		api.WipeInput(r.In)
		p.throttled.Add(1)
		return nil, kms.Report{}, werr
	}
	defer p.costly.give(uid)
	return p.cfg.Exec(r.Caller.Ctx, r.Op, r.In)
}

// commit answers the pass's requests once their records are written, or
// with failed instead (their outputs wiped) if they could not be.
func (ps *pass) commit(failed *api.Error) {
	for _, r := range ps.rs {
		if failed == nil { // counted before it leaves: a scrape after the answer sees it
			ps.p.took("single", r.Start, 1)
		}
		r.Reply.(Single).Commit(failed)
	}
}

// fail answers a request, or its chunk of a batch, with one error,
// unworked.
func (p *Pipeline) fail(r *Request, werr *api.Error) {
	if r.Batch == nil {
		r.Reply.Reject(werr)
		return
	}
	r.Reply.Reject(werr)
	b := r.Batch
	for i := r.Lo; i < r.Hi; i++ {
		b.outcomes[i].code = werr.Code
	}
	if b.left.Add(-1) == 0 {
		p.finishBatch(b)
	}
}

// observe and took tell the observer, if there is one.
func (p *Pipeline) observe(evs []*audit.Event) {
	if p.cfg.Observer != nil {
		p.cfg.Observer.Observe(evs)
	}
}

func (p *Pipeline) took(kind string, since time.Time, items int) {
	if p.cfg.Observer != nil && !since.IsZero() {
		p.cfg.Observer.Took(kind, since, items)
	}
}
