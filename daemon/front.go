package daemon

import (
	"context"
	"time"

	"kmsd/daemon/audit"
	"kmsd/daemon/policy"
	"kmsd/wire/api"
)

// frontJob is a request of another front end in a worker's pass: it is
// worked on and recorded with the socket's requests taken in the same
// pass (their records written as one group), and finish hands its answer
// back to the goroutine that waits for it.
type frontJob struct {
	caller    // ctx carries the principal
	requestID string
	out       api.Message
	werr      *api.Error
	done      chan struct{}
}

// The waiting call is the replier of its job: it takes the result on the
// worker and is woken once the record is written.

func (f *frontJob) who() *caller    { return &f.caller }
func (f *frontJob) rid(*job) string { return f.requestID }

func (f *frontJob) prepare(_ *job, out api.Message, werr *api.Error) { f.out, f.werr = out, werr }
func (f *frontJob) commit(_ *job, failed *api.Error)                 { f.finish(failed) }
func (f *frontJob) fail(_ *job, werr *api.Error)                     { f.finish(werr) }

// finish completes the job: with failed (the trail could not be written,
// or the job never ran), its output is wiped and failed is its answer.
func (f *frontJob) finish(failed *api.Error) {
	if failed != nil {
		if f.out != nil {
			api.WipeOutput(f.out)
		}
		f.out, f.werr = nil, failed
	}
	close(f.done)
}

// frontOp is what a front end's call does before its work: the
// operation looked up, and the trail ready.
func (s *Server) frontOp(op string) (*api.OpSpec, *api.Error) {
	spec := api.Lookup(op)
	if spec == nil {
		return nil, &api.Error{Code: api.CodeUnknownOperation, Message: op + " is not an operation"}
	}
	if werr := s.ready(); werr != nil {
		return nil, werr
	}
	s.requests.Add(1)
	return spec, nil
}

// holdUnits takes u units of the in-flight budget for a request of uid
// before its body is read, as a socket request takes its own: from the
// uid's share (waiting while the uid holds it, until quit) and from the
// server's (over says that one is spent). ok is false if quit came first;
// release gives the units back.
func (s *Server) holdUnits(uid uint32, u int, quit <-chan struct{}) (over bool, release func(), ok bool) {
	if over, ok = s.takeUnits(uid, u, quit); !ok {
		return false, nil, false
	}
	return over, func() { s.giveUnits(uid, u) }, true
}

// frontQueued is the path of a front end's request other than the
// socket's: it joins the workers' queue (crypto or management, as the
// socket's would), so that concurrent requests share passes, and audit
// writes, with each other and with socket requests. A full queue is
// ThrottlingException. With lone, as a socket's lone request is, a
// crypto request with no queue to wait behind is worked on by the
// caller's goroutine itself, through the same stages (runJobs): its round
// trip then has no handoff to a worker and back, nor to the trail's
// writer (the FUSE view, whose callers the kernel bounds, asks for it;
// the AWS endpoint, whose callers are connections, does not). The caller
// holds the request's in-flight units (holdUnits, taken before its body
// was read); over says they passed the server's budget.
func (s *Server) frontQueued(ctx context.Context, p *policy.Principal, principal, rid, op string, in api.Message, over, lone bool) (api.Message, error) {
	spec, werr := s.frontOp(op)
	if werr != nil {
		return nil, werr
	}
	f := &frontJob{caller: caller{ctx: policy.WithPrincipal(ctx, p), p: p, principal: principal}, requestID: rid, done: make(chan struct{})}
	j := &job{op: spec, in: in, reply: f}
	if s.metrics != nil {
		j.start = time.Now()
	}
	pool := s.admin
	if spec.Crypto {
		pool = s.crypto
	}
	switch {
	case lone && !over && spec.Crypto && pool.depth() == 0:
		s.runJobs([]*job{j}, true)
	case over || !pool.submit(j):
		s.throttled.Add(1)
		ev := new(audit.Event)
		callEvent(ev, op, rid, p, principal)
		finish(ev, spec, nil, in, nil, throttled())
		if aerr := s.record(ev); aerr != nil {
			return nil, aerr
		}
		return nil, throttled()
	}
	<-f.done
	if f.werr != nil {
		return nil, f.werr
	}
	return f.out, nil
}

// frontCall is a call of a front end that has not taken its in-flight
// units (the FUSE view, whose inputs are at most 4 KiB): one unit from
// the caller's share, then the path every front end takes (frontQueued):
// through the workers' queues, in their passes and audit writes, or, a
// lone crypto call with no queue to wait behind, on its own goroutine.
func (s *Server) frontCall(ctx context.Context, p *policy.Principal, principal, rid, op string, in api.Message) (api.Message, error) {
	over, release, ok := s.holdUnits(p.UID, 1, s.quit)
	if !ok {
		return nil, throttled()
	}
	defer release()
	return s.frontQueued(ctx, p, principal, rid, op, in, over, true)
}
