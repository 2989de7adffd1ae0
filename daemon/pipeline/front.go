package pipeline

import (
	"context"
	"time"

	"kmsd/daemon/policy"
	"kmsd/wire/api"
)

// waiting is the reply of a request whose front end waits for its answer
// on the calling goroutine (the FUSE view, the AWS endpoint): the worker
// leaves the result in it, and it wakes the caller once the record is
// written.
type waiting struct {
	r    Request
	c    Caller
	rid  string
	out  api.Message
	werr *api.Error
	done chan struct{}
}

func (w *waiting) RequestID() string                        { return w.rid }
func (w *waiting) Prepare(out api.Message, werr *api.Error) { w.out, w.werr = out, werr }
func (w *waiting) Commit(failed *api.Error)                 { w.finish(failed) }
func (w *waiting) Reject(werr *api.Error)                   { w.finish(werr) }

// finish completes the call: with failed (the trail could not be
// written, or the request never ran), its output is wiped and failed is
// its answer.
func (w *waiting) finish(failed *api.Error) {
	if failed != nil {
		if w.out != nil {
			api.WipeOutput(w.out)
		}
		w.out, w.werr = nil, failed
	}
	close(w.done)
}

// Call is the path of a front end that waits for each answer on the
// calling goroutine: a request of op by p (principal, its name), request
// id rid, served (Serve) and waited for. The caller holds the request's
// in-flight units (Hold, taken before its body was read); over says they
// passed the server's budget. inline is Serve's. After Stop it answers
// that kmsd is stopping.
func (p *Pipeline) Call(ctx context.Context, pr *policy.Principal, principal, rid, op string, in api.Message, over, inline bool) (api.Message, error) {
	spec := api.Lookup(op)
	if spec == nil {
		return nil, &api.Error{Code: api.CodeUnknownOperation, Message: op + " is not an operation"}
	}
	if werr := p.Ready(); werr != nil {
		return nil, werr
	}
	w := &waiting{c: Caller{Ctx: policy.WithPrincipal(ctx, pr), P: pr, Principal: principal}, rid: rid, done: make(chan struct{})}
	w.r = Request{Op: spec, Caller: &w.c, Reply: w, In: in}
	if p.cfg.Observer != nil {
		w.r.Start = time.Now()
	}
	p.stopMu.RLock()
	if p.stopped {
		p.stopMu.RUnlock()
		return nil, &api.Error{Code: api.CodeInternal, Message: "kmsd is stopping; retry once it is back"}
	}
	p.Serve(&w.r, over, inline)
	p.stopMu.RUnlock()
	<-w.done
	if w.werr != nil {
		return nil, w.werr
	}
	return w.out, nil
}
