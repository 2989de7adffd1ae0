package daemon

import (
	"context"
	"strconv"
	"sync/atomic"

	"kmsd/daemon/identity"
	"kmsd/daemon/pipeline"
	"kmsd/daemon/policy"
	"kmsd/fusefs"
	"kmsd/wire/api"
)

// FUSE returns the server as the service a FUSE mount calls: each session
// is one caller of one FUSE request, and its calls take the path every
// front end takes (package pipeline): the caller's share of the in-flight
// budget, the workers' queues (crypto or management, sharing passes and
// audit writes with the other front ends' requests), authorization, the
// service and the audit trail, with source "fuse".
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

// Call runs op as the session's principal: one unit of the in-flight
// budget from the caller's share (a FUSE request's input is at most 4
// KiB), then the pipeline, where a crypto call with no queue to wait
// behind runs on the caller's goroutine (the kernel bounds FUSE's
// callers).
func (f *fuseSession) Call(ctx context.Context, op string, in api.Message) (api.Message, error) {
	rid := "fuse:" + strconv.FormatUint(f.id, 10) + ":" + strconv.FormatUint(f.n.Add(1), 10)
	over, release, ok := f.s.p.Hold(f.p.UID, 1, nil)
	if !ok {
		return nil, pipeline.Throttled()
	}
	defer release()
	return f.s.p.Call(ctx, f.p, f.principal, rid, op, in, over, true)
}
