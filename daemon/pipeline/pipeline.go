package pipeline

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"kmsd/daemon/audit"
	"kmsd/daemon/kms"
	"kmsd/wire/api"
)

// Config configures a Pipeline. Zero sizes take the defaults noted.
type Config struct {
	// Exec executes a single request: the operation's access rule and
	// handler. It returns what the service reported doing.
	Exec func(ctx context.Context, op *api.OpSpec, in api.Message) (api.Message, kms.Report, *api.Error)
	// ExecBatch executes items [lo, hi) of a batch of op (inputs is a
	// slice of its input type), answering each into sink.
	ExecBatch func(ctx context.Context, op *api.OpSpec, inputs any, lo, hi int, sink kms.Sink)
	Audit     *audit.Writer // nil: no audit trail (benchmarks only)
	Observer  Observer      // nil: no metrics
	Log       *slog.Logger

	Workers      int // crypto workers; default 1
	QueueSize    int // crypto queue; default 4096
	AdminWorkers int // management workers; default 2
	AdminQueue   int // management queue; default 256
	// MaxInFlightTotal is the server's in-flight budget in units
	// (budget.go), and MaxInFlightPerUID one uid's share of it.
	MaxInFlightTotal, MaxInFlightPerUID int
}

// Observer is told what the pipeline records and how long requests took
// (the Prometheus metrics).
type Observer interface {
	Observe(evs []*audit.Event)
	Took(kind string, since time.Time, items int)
}

// Pipeline is the path of every request of every front end: budget,
// queue, execute, record, reply.
type Pipeline struct {
	cfg    Config
	log    *slog.Logger
	crypto *pool
	admin  *pool

	requests, batches, throttled atomic.Int64

	// held counts the units of requests in flight on every front end,
	// and heldPeak its highest value; shares, each uid's (budget.go).
	held, heldPeak atomic.Int64
	shares         *shares
	failures       *failureBudget // what failed requests may cost the trail (trailcost.go)
	costly         *costlyGate    // who may run a costly operation now (costly.go)
	quit           chan struct{}  // closed by Stop: waits for budget end
	summariesDone  chan struct{}

	// stopMu orders Stop after every Call that is queueing a request: a
	// front end that cannot promise to stop calling before Stop (the FUSE
	// view, whose kernel may still hand it requests while kmsd stops)
	// holds it to read stopped and queue.
	stopMu  sync.RWMutex
	stopped bool
}

// New starts the worker pools and the writer of failure summaries.
func New(cfg Config) *Pipeline {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	cfg.Workers = max(1, cfg.Workers)
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = 4096
	}
	if cfg.AdminWorkers <= 0 {
		cfg.AdminWorkers = 2
	}
	if cfg.AdminQueue <= 0 {
		cfg.AdminQueue = 256
	}
	p := &Pipeline{cfg: cfg, log: cfg.Log, shares: newShares(cfg.MaxInFlightPerUID), failures: newFailureBudget(), costly: newCostlyGate(cfg.AdminWorkers),
		quit: make(chan struct{}), summariesDone: make(chan struct{})}
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		p.writeSummaries(p.quit, t.C)
		close(p.summariesDone)
	}()
	p.crypto = newPool(cfg.Workers, cfg.QueueSize, p.run)
	p.admin = newPool(cfg.AdminWorkers, cfg.AdminQueue, p.run)
	return p
}

// Quit is closed once Stopping is called: whoever waits for budget
// stops waiting.
func (p *Pipeline) Quit() <-chan struct{} { return p.quit }

// Stopping ends every wait for the budget: the front ends are stopping.
func (p *Pipeline) Stopping() {
	select {
	case <-p.quit:
	default:
		close(p.quit)
	}
}

// Stop lets the workers finish what is queued, stops them and writes the
// last failure summaries. Nothing may be served after it is called.
func (p *Pipeline) Stop() {
	p.Stopping()
	p.stopMu.Lock()
	p.stopped = true
	p.stopMu.Unlock()
	p.crypto.stop()
	p.admin.stop()
	<-p.summariesDone
	p.flushSummaries()
}

// Stats are the pipeline's counts: requests (batch items one by one),
// batch requests, and requests answered ThrottlingException.
func (p *Pipeline) Stats() (requests, batches, throttled int64) {
	return p.requests.Load(), p.batches.Load(), p.throttled.Load()
}

// QueueDepth is the crypto queue's depth now.
func (p *Pipeline) QueueDepth() int { return p.crypto.depth() }

// Workers is the number of crypto workers.
func (p *Pipeline) Workers() int { return p.cfg.Workers }

// Serve takes a request through the pipeline: to its workers' queue
// (crypto or management), to be executed in a pass with whatever else is
// queued, recorded and answered. A full queue, or over (the request's
// units passed the server's budget), answers ThrottlingException at once,
// recorded so. inline, for a front end whose caller waits for nothing
// else (a connection's lone request, a FUSE call), lets a crypto request
// with no queue to wait behind be worked on by the calling goroutine,
// through the same stages: its round trip then has no handoff to a
// worker and back, nor to the trail's writer.
func (p *Pipeline) Serve(r *Request, over, inline bool) {
	if r.Batch == nil {
		p.requests.Add(1)
	} else {
		p.requests.Add(int64(r.Hi - r.Lo))
	}
	q := p.admin
	if r.Op.Crypto {
		q = p.crypto
	}
	switch {
	case inline && !over && r.Op.Crypto && q.depth() == 0:
		p.runJobs([]*Request{r}, true)
	case over || !q.submit(r):
		p.throttle(r)
	}
}

// throttle answers a request ThrottlingException and records it so.
func (p *Pipeline) throttle(r *Request) {
	if r.Batch != nil {
		p.throttled.Add(int64(r.Hi - r.Lo))
		p.fail(r, Throttled())
		return
	}
	p.throttled.Add(1)
	ev := new(audit.Event)
	Event(ev, r.Op.Name, r.Reply.(Single).RequestID(), r.Caller)
	Finish(ev, r.Op, nil, r.In, nil, Throttled())
	if aerr := p.Record(ev); aerr != nil {
		r.Reply.Reject(aerr)
		return
	}
	r.Reply.Reject(Throttled())
}

// Refused counts a request the front end refused before it was read
// (past the server's budget), which it records itself.
func (p *Pipeline) Refused() { p.throttled.Add(1) }

// Ready reports whether requests may be worked on: the audit trail must
// be writable (or off).
func (p *Pipeline) Ready() *api.Error {
	if p.cfg.Audit == nil {
		return nil
	}
	if p.cfg.Audit.Ready() != nil {
		return AuditDown()
	}
	return nil
}

// AuditDown is the answer to requests that cannot be recorded.
func AuditDown() *api.Error {
	return &api.Error{Code: api.CodeInternal, Message: "kmsd cannot write its audit trail (disk full or failing) and answers no request it cannot record; retry later"}
}
