package daemon

import (
	"context"

	"kmsd/daemon/awsapi"
	"kmsd/daemon/kms"
	"kmsd/daemon/policy"
	"kmsd/wire/api"
)

// NewAWSEndpoint makes the AWS endpoint (package awsapi) over the
// server's request path; tcp says its listener is TCP.
func (s *Server) NewAWSEndpoint(tcp bool) *awsapi.Endpoint {
	return awsapi.New(awsPipeline{s}, s.keys, tcp, s.log)
}

// awsPipeline is the server as the AWS endpoint's request path: its
// connections count in the limits the socket's do (admit.go), and its
// requests take the same budget, queues, handlers and audit trail.
type awsPipeline struct{ s *Server }

func (p awsPipeline) AdmitConn(unix bool, uid uint32) (ok bool, why string) {
	s := p.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if unix {
		ok, why = s.admit(uid)
	} else {
		ok, why = s.admitUnauth()
	}
	if ok {
		s.awsConns++
	}
	return ok, why
}

// admitUnauth counts a new TCP connection of the AWS endpoint in the
// allowance of those not yet signed for, or says why it is refused. The
// caller holds s.mu.
func (s *Server) admitUnauth() (ok bool, why string) {
	if len(s.conns)+s.awsConns >= s.cfg.MaxConns-s.rootReserve() {
		return false, "kmsd's connections are at their limit"
	}
	if s.awsUnauth >= min(awsapi.AWSUnauthConns, s.cfg.MaxConnsPerUID) {
		return false, "the AWS endpoint's connections not yet signed for are at their limit"
	}
	s.awsUnauth++
	return true, ""
}

func (p awsPipeline) KeyConn(key string) bool {
	s := p.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.perKey[key] >= s.cfg.MaxConnsPerUID {
		return false
	}
	s.perKey[key]++
	s.awsUnauth--
	return true
}

func (p awsPipeline) ReleaseConn(unix bool, uid uint32, key string) {
	s := p.s
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case unix:
		s.release(uid)
	case key != "":
		if s.perKey[key]--; s.perKey[key] <= 0 {
			delete(s.perKey, key)
		}
	default:
		s.awsUnauth--
	}
	s.awsConns--
}

func (p awsPipeline) Refused(uid uint32, why string) { p.s.refused(uid, why) }

func (p awsPipeline) Hold(uid uint32, n int, quit <-chan struct{}) (bool, func(), bool) {
	return p.s.holdUnits(uid, units(n), quit)
}

func (p awsPipeline) Call(ctx context.Context, pr *policy.Principal, principal, rid, op string, in api.Message, over bool) (api.Message, error) {
	return p.s.frontQueued(ctx, pr, principal, rid, op, in, over, false)
}

func (awsPipeline) Throttled() *api.Error { return throttled() }

// The access keys' operations (the server's own, in the table) are
// served by package awsapi's Keys.

func (s *Server) createAccessKey(ctx context.Context, _ *kms.Service, in api.Message) (api.Message, error) {
	return s.keys.CreateAccessKey(ctx, in)
}

func (s *Server) listAccessKeys(ctx context.Context, _ *kms.Service, in api.Message) (api.Message, error) {
	return s.keys.ListAccessKeys(ctx, in)
}

func (s *Server) deleteAccessKey(ctx context.Context, _ *kms.Service, in api.Message) (api.Message, error) {
	return s.keys.DeleteAccessKey(ctx, in)
}
