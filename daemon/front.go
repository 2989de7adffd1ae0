package daemon

import (
	"context"

	"kmsd/daemon/audit"
	"kmsd/daemon/kms"
	"kmsd/daemon/policy"
	"kmsd/wire/api"
)

// frontCall is one call of a front end other than the msgpack socket (the
// FUSE view, the AWS JSON endpoint): op with in, as p (whose string form
// is principal), recorded in the audit trail under the request id rid.
// It takes the socket's path through the in-flight budget, authorization
// and the service, on the caller's goroutine, and answers only once the
// record is written: a trail that cannot be written fails the call and
// wipes its output.
func (s *Server) frontCall(ctx context.Context, p *policy.Principal, principal, rid, op string, in api.Message) (api.Message, error) {
	spec := api.Lookup(op)
	if spec == nil {
		return nil, &api.Error{Code: api.CodeUnknownOperation, Message: op + " is not an operation"}
	}
	if werr := s.ready(); werr != nil {
		return nil, werr
	}
	// A call takes a unit of the in-flight budget as a socket request
	// does: from its uid's share (waiting) and the server's.
	if !s.shares.take(p.UID, 1, s.quit) {
		return nil, throttled()
	}
	over := s.hold(1)
	defer func() {
		s.held.Add(-1)
		s.shares.give(p.UID, 1)
	}()
	s.requests.Add(1)
	ev := &audit.Event{Type: audit.TypeCall, Name: op, RequestID: rid, Caller: callerOf(p, principal)}
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
			wipeOutput(out)
		}
		return nil, aerr
	}
	if werr != nil {
		return nil, werr
	}
	return out, nil
}
