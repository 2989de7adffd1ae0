package daemon_test

import (
	"bytes"
	"context"
	"kmsd/daemon/socket"
	"net"
	"path/filepath"
	"testing"
	"time"

	"kmsd/daemon"
	"kmsd/daemon/audit"
	"kmsd/daemon/kms"
	"kmsd/internal/testkit"
	"kmsd/keystore"
	"kmsd/keystore/memstore"
	"kmsd/keystore/statedir"
	"kmsd/wire"
	"kmsd/wire/api"
	"kmsd/wire/client"
)

var ctx = context.Background()

type testServer struct {
	srv  *daemon.Server
	svc  *kms.Service
	sock string
	ln   net.Listener
	done chan error
}

// rootKey is the root key of memService's stores.
var rootKey = bytes.Repeat([]byte{3}, keystore.RootKeySize)

// memService is a key service on a store in memory.
func memService(t testing.TB) *kms.Service {
	t.Helper()
	rk, err := keystore.NewRootKey(rootKey)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := kms.Open(kms.Config{Store: memstore.New(), RootKey: rk, TickInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// dirService is a key service on the state directory dir (Badger on
// disk): for what must outlast a restart.
func dirService(t testing.TB, dir string) *kms.Service {
	t.Helper()
	st, err := statedir.Open(statedir.Options{Dir: dir, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := kms.Open(kms.Config{Store: st.Store, RootKey: st.Root, TickInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// openAudit opens an audit trail in dir for svc, as kmsd does.
func openAudit(t testing.TB, svc *kms.Service, dir string, mod ...func(*audit.Config)) *audit.Writer {
	t.Helper()
	key, err := svc.AuditKey()
	if err != nil {
		t.Fatal(err)
	}
	cfg := audit.Config{Dir: dir, MACKey: key, Store: daemon.CheckpointStore(svc.Store()), KeyUse: api.IsKeyUse}
	for _, m := range mod {
		m(&cfg)
	}
	aw, err := audit.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return aw
}

// startServer runs a daemon.Server on a real socket, with a service on a
// store in memory and a real audit trail; mod adjusts its Config.
func startServer(t testing.TB, mod ...func(*daemon.Config)) *testServer {
	t.Helper()
	dir := testkit.ShortDir(t)
	svc := memService(t)
	sock := filepath.Join(dir, "s")
	ln, err := socket.Listen(socket.ListenConfig{Path: sock})
	if err != nil {
		t.Fatal(err)
	}
	aw := openAudit(t, svc, filepath.Join(dir, "audit"))
	cfg := daemon.Config{Service: svc, Version: "test", CPU: keystore.DetectCPU(), Audit: aw, AuditDir: filepath.Join(dir, "audit")}
	for _, m := range mod {
		m(&cfg)
	}
	ts := &testServer{srv: daemon.NewServer(cfg), svc: svc, sock: sock, ln: ln, done: make(chan error, 1)}
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
	if aw := ts.srv.Audit(); aw != nil {
		aw.Close()
	}
	ts.svc.Close()
	ts.srv = nil
}

func heldNow(s *daemon.Server) int64  { n, _ := s.Held(); return n }
func heldPeak(s *daemon.Server) int64 { _, p := s.Held(); return p }

func dial(t testing.TB, sock string) *client.Client { return testkit.Dial(t, sock) }

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
