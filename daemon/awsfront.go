package daemon

import (
	"context"

	"kmsd/daemon/awsapi"
	"kmsd/daemon/kms"
	"kmsd/daemon/pipeline"
	"kmsd/daemon/policy"
	"kmsd/wire/api"
)

// NewAWSEndpoint makes the AWS endpoint (package awsapi) over the
// server's request path; tcp says its listener is TCP.
func (s *Server) NewAWSEndpoint(tcp bool) *awsapi.Endpoint {
	return awsapi.New(awsPipeline{s}, s.keys, tcp, s.log)
}

// awsPipeline is the server as the AWS endpoint's request path: its
// connections count in the limits the socket's do (pipeline.Admission), and its
// requests take the same budget, queues, handlers and audit trail.
type awsPipeline struct{ s *Server }

func (p awsPipeline) AdmitConn(unix bool, uid uint32) (ok bool, why string) {
	if unix {
		return p.s.admit.AdmitOn(uid, false)
	}
	return p.s.admit.AdmitUnsigned()
}

func (p awsPipeline) KeyConn(key string) bool { return p.s.admit.Signed(key) }

func (p awsPipeline) ReleaseConn(unix bool, uid uint32, key string) {
	if unix {
		p.s.admit.Release(uid)
	} else {
		p.s.admit.ReleaseTCP(key)
	}
}

func (p awsPipeline) Refused(uid uint32, why string) { p.s.admit.Refused(uid, why) }

func (p awsPipeline) Hold(uid uint32, n int, quit <-chan struct{}) (bool, func(), bool) {
	return p.s.p.Hold(uid, pipeline.Units(n), quit)
}

// Call serves a request through the pipeline; its callers are
// connections, so it never runs on the caller's goroutine (inline), and
// shares the workers' passes with the socket's requests.
func (p awsPipeline) Call(ctx context.Context, pr *policy.Principal, principal, rid, op string, in api.Message, over bool) (api.Message, error) {
	return p.s.p.Call(ctx, pr, principal, rid, op, in, over, false)
}

func (awsPipeline) Throttled() *api.Error { return pipeline.Throttled() }

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
