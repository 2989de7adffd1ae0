package daemon

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"kmsd/daemon/audit"
	"kmsd/daemon/kms"
	"kmsd/keystore"
	"kmsd/wire"
	"kmsd/wire/api"
	"kmsd/wire/client"
)

var ctx = context.Background()

// shortDir is a temporary directory with a path short enough for a Unix
// socket (108 bytes), removed after the test.
func shortDir(t testing.TB) string {
	t.Helper()
	d, err := os.MkdirTemp("", "kmsd")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

type testServer struct {
	srv  *Server
	svc  *kms.Service
	sock string
	ln   *net.UnixListener
	done chan error
}

// startServer runs a Server on a real socket over a real store.
func startServer(t testing.TB, mod ...func(*Config)) *testServer {
	t.Helper()
	dir := shortDir(t)
	svc, err := kms.Open(kms.Config{StateDir: filepath.Join(dir, "state"), TickInterval: -1, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "s")
	ln, err := Listen(ListenConfig{Path: sock})
	if err != nil {
		t.Fatal(err)
	}
	key, err := svc.AuditKey()
	if err != nil {
		t.Fatal(err)
	}
	aw, err := audit.Open(audit.Config{Dir: filepath.Join(dir, "audit"), MACKey: key, Store: svc.CheckpointStore()})
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Service: svc, Version: "test", CPU: keystore.DetectCPU(), Audit: aw, AuditDir: filepath.Join(dir, "audit")}
	for _, m := range mod {
		m(&cfg)
	}
	ts := &testServer{srv: NewServer(cfg), svc: svc, sock: sock, ln: ln, done: make(chan error, 1)}
	go func() { ts.done <- ts.srv.Serve(ln) }()
	t.Cleanup(func() { ts.stop(t) })
	return ts
}

func (ts *testServer) stop(t testing.TB) {
	if ts.srv == nil {
		return
	}
	c, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	ts.srv.Shutdown(c)
	<-ts.done
	if ts.srv.cfg.Audit != nil {
		ts.srv.cfg.Audit.Close()
	}
	ts.svc.Close()
	ts.srv = nil
}

func dial(t testing.TB, sock string) *client.Client {
	t.Helper()
	c, err := client.Dial(ctx, sock, client.Options{Client: "test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func newKey(t testing.TB, c *client.Client) string {
	t.Helper()
	out, err := c.CreateKey(ctx, &api.CreateKeyInput{Description: "t"})
	if err != nil {
		t.Fatal(err)
	}
	return out.KeyMetadata.KeyId
}

// rawConn is a bare connection for sending crafted frames.
type rawConn struct {
	t *testing.T
	c net.Conn
}

func rawDial(t *testing.T, sock string, hello bool) *rawConn {
	t.Helper()
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	r := &rawConn{t: t, c: c}
	if hello {
		f, _ := wire.AppendRequest(nil, 1, api.OpHello, &api.HelloInput{ProtocolVersion: 1})
		r.send(f)
		if resp, err := r.read(api.OpHello); err != nil || resp.Err != nil {
			t.Fatalf("hello: %v %v", resp, err)
		}
	}
	return r
}

func (r *rawConn) send(b []byte) {
	r.c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := r.c.Write(b); err != nil {
		r.t.Fatalf("write: %v", err)
	}
}

// read reads one response; op types the body.
func (r *rawConn) read(op string) (*wire.Response, error) {
	r.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	body, err := wire.ReadFrame(r.c, nil, wire.MaxFrame)
	if err != nil {
		return nil, err
	}
	spec := api.Lookup(op)
	return wire.DecodeResponse(body, func(uint64) (*api.OpSpec, bool) { return spec, true })
}

func frameOf(body []byte) []byte {
	f := wire.AppendFrameHeader(nil)
	f = append(f, body...)
	wire.FinishFrame(f, 0)
	return f
}
