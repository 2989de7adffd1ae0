package daemon

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"kmsd/daemon/k8skms"
	"kmsd/daemon/pipeline"
	"kmsd/daemon/policy"
	"kmsd/daemon/socket"
	"kmsd/wire/api"
)

// NewK8sKMS makes the Kubernetes KMS v2 plugin (package k8skms) for key
// over the server's request path.
func (s *Server) NewK8sKMS(key string) *k8skms.Plugin {
	return k8skms.New(k8sPipeline{s}, key, s.log)
}

// k8sPipeline is the server as the plugin's request path: its
// connections count in the limits the socket's do, and its requests take
// the same budget, queues (sharing the workers' passes), handlers and
// audit trail.
type k8sPipeline struct{ s *Server }

func (p k8sPipeline) AdmitConn(uid uint32) (bool, string) { return p.s.admit.AdmitOn(uid, false) }

func (p k8sPipeline) ReleaseConn(uid uint32) { p.s.admit.Release(uid) }

func (p k8sPipeline) Hold(uid uint32, n int, quit <-chan struct{}) (bool, func(), bool) {
	return p.s.p.Hold(uid, pipeline.Units(n), quit)
}

func (p k8sPipeline) Call(ctx context.Context, pr *policy.Principal, principal, rid, op string, in api.Message, over bool) (api.Message, error) {
	return p.s.p.Call(ctx, pr, principal, rid, op, in, over, false)
}

func (k8sPipeline) Throttled() *api.Error { return pipeline.Throttled() }

// startK8sKMS opens the plugin's socket (a stale one from a kmsd that
// crashed is replaced) and makes the plugin.
func startK8sKMS(o Options, srv *Server) (*k8skms.Plugin, net.Listener, error) {
	if o.K8sKMSKey == "" {
		return nil, nil, errors.New("name the key the plugin encrypts under: --k8s-kms-key (an id, ARN or alias)")
	}
	kind, path, _ := strings.Cut(o.K8sKMSListen, ":")
	if kind != "unix" || path == "" {
		return nil, nil, fmt.Errorf("%q: want unix:PATH", o.K8sKMSListen)
	}
	mode := o.K8sKMSSocketMode
	if mode == 0 {
		mode = 0o600
	}
	l, err := socket.Listen(socket.ListenConfig{Path: path, Mode: mode, Group: o.K8sKMSSocketGroup})
	if err != nil {
		return nil, nil, err
	}
	return srv.NewK8sKMS(o.K8sKMSKey), l, nil
}

// stopK8sKMS stops the plugin taking requests and waits (at most
// timeout, 15s if 0) for those in flight.
func stopK8sKMS(pl *k8skms.Plugin, timeout time.Duration) {
	if pl == nil {
		return
	}
	if timeout <= 0 {
		timeout = 15 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	pl.Stop(ctx)
}
