package daemon

import (
	"context"
	"time"

	"kmsd/daemon/audit"
	"kmsd/daemon/kms"
	"kmsd/daemon/policy"
	"kmsd/wire/api"
)

// frontJob is a request of another front end in a worker's pass: it is
// worked on and recorded with the socket's requests taken in the same
// pass (their records written as one group), and finish hands its answer
// back to the goroutine that waits for it.
type frontJob struct {
	ctx            context.Context // carries the principal
	p              *policy.Principal
	principal, rid string
	out            api.Message
	werr           *api.Error
	done           chan struct{}
}

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

// frontQueued is frontCall for the AWS endpoint: the request joins the
// workers' queue (crypto or management, as the socket's would), so that
// concurrent HTTP requests share passes, and audit writes, with each
// other and with socket requests. A full queue is ThrottlingException.
// The caller holds the request's in-flight units (holdUnits, taken
// before its body was read); over says they passed the server's budget.
func (s *Server) frontQueued(ctx context.Context, p *policy.Principal, principal, rid, op string, in api.Message, over bool) (api.Message, error) {
	spec, werr := s.frontOp(op)
	if werr != nil {
		return nil, werr
	}
	f := &frontJob{ctx: policy.WithPrincipal(ctx, p), p: p, principal: principal, rid: rid, done: make(chan struct{})}
	j := &job{op: spec, in: in, front: f}
	if s.metrics != nil {
		j.start = time.Now()
	}
	pool := s.admin
	if spec.Crypto {
		pool = s.crypto
	}
	if over || !pool.submit(j) {
		s.throttled.Add(1)
		ev := new(audit.Event)
		callEvent(ev, op, rid, p, principal)
		finish(ev, nil, in, nil, throttled())
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

// frontCall is one call of a front end other than the msgpack socket (the
// FUSE view, the AWS JSON endpoint): op with in, as p (whose string form
// is principal), recorded in the audit trail under the request id rid.
// It takes the socket's path through the in-flight budget, authorization
// and the service, on the caller's goroutine, and answers only once the
// record is written: a trail that cannot be written fails the call and
// wipes its output.
func (s *Server) frontCall(ctx context.Context, p *policy.Principal, principal, rid, op string, in api.Message) (api.Message, error) {
	spec, aerr := s.frontOp(op)
	if aerr != nil {
		return nil, aerr
	}
	over, release, ok := s.holdUnits(p.UID, 1, s.quit)
	if !ok {
		return nil, throttled()
	}
	defer release()
	ev := new(audit.Event)
	callEvent(ev, op, rid, p, principal)
	var rep kms.Report
	var out api.Message
	var werr *api.Error
	if over {
		s.throttled.Add(1)
		werr = throttled() // recorded, as a socket request past the budget is
	} else {
		out, werr = s.call(kms.WithReport(policy.WithPrincipal(ctx, p), &rep), spec, in)
	}
	finish(ev, &rep, in, out, werr)
	if aerr := s.record(ev); aerr != nil {
		if out != nil {
			api.WipeOutput(out)
		}
		return nil, aerr
	}
	if werr != nil {
		return nil, werr
	}
	return out, nil
}
