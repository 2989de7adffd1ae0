package daemon

import (
	"context"
	"strconv"
	"sync/atomic"

	"kmsd/daemon/audit"
	"kmsd/daemon/identity"
	"kmsd/daemon/kms"
	"kmsd/daemon/policy"
	"kmsd/fusefs"
	"kmsd/wire/api"
)

// FUSE returns the server as the service a FUSE mount calls: each session
// is one caller of one FUSE request, and its calls take the socket's path
// through authorization, the service and the audit trail, with source
// "fuse". They run on go-fuse's goroutines, which the kernel bounds, not
// on the crypto pool.
func (s *Server) FUSE() fusefs.Service { return fuseService{s} }

type fuseService struct{ s *Server }

func (f fuseService) Session(pid uint32, uid, gid uint32) fusefs.Session {
	p := identity.FromProcess(int32(pid), uid, gid, "fuse")
	return &fuseSession{s: f.s, p: p, id: f.s.fuseSessions.Add(1),
		principal: p.String()}
}

// fuseSession is one FUSE caller: the principal of the process that made
// the request (a handle keeps the one of its open).
type fuseSession struct {
	s         *Server
	p         *policy.Principal
	principal string
	id        uint64
	n         atomic.Uint64
}

// Call runs op as the session's principal, records it, and answers only
// once the record is written: a trail that cannot be written fails the
// call and wipes its output.
func (f *fuseSession) Call(ctx context.Context, op string, in api.Message) (api.Message, error) {
	spec := api.Lookup(op)
	if spec == nil {
		return nil, &api.Error{Code: api.CodeUnknownOperation, Message: op + " is not an operation"}
	}
	if werr := f.s.ready(); werr != nil {
		return nil, werr
	}
	// A FUSE call takes a unit of the in-flight budget as a socket
	// request does: from its uid's share (waiting) and the server's.
	if !f.s.shares.take(f.p.UID, 1, f.s.quit) {
		return nil, throttled()
	}
	over := f.s.hold(1)
	defer func() {
		f.s.held.Add(-1)
		f.s.shares.give(f.p.UID, 1)
	}()
	f.s.requests.Add(1)
	rid := "fuse:" + strconv.FormatUint(f.id, 10) + ":" + strconv.FormatUint(f.n.Add(1), 10)
	ev := &audit.Event{Type: audit.TypeCall, Name: op, RequestID: rid, Caller: callerOf(f.p, f.principal)}
	var rep kms.Report
	var out api.Message
	var werr *api.Error
	if over {
		f.s.throttled.Add(1)
		werr = throttled() // recorded, as a socket request past the budget is
	} else {
		out, werr = f.s.call(kms.WithReport(policy.WithPrincipal(ctx, f.p), &rep), spec, in)
	}
	finish(ev, &rep, in, out, werr)
	if aerr := f.s.record(ev); aerr != nil {
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
