package daemon_test

import (
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"kmsd/daemon"
	"kmsd/internal/testkit"
	"kmsd/wire"
	"kmsd/wire/api"
)

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// openToAll lets every user reach the test server's socket.
func openToAll(t *testing.T, ts *testServer) {
	t.Helper()
	if err := os.Chmod(filepath.Dir(ts.sock), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(ts.sock, 0o666); err != nil {
		t.Fatal(err)
	}
}

// helloAs connects as uid and says Hello; it reports whether kmsd
// answered (false: it closed the connection).
func helloAs(t *testing.T, sock string, uid uint32) (*rawConn, bool) {
	t.Helper()
	r := &rawConn{t: t, c: testkit.DialAs(t, sock, uid, uid)}
	f, _ := wire.AppendRequest(nil, 1, api.OpHello, &api.HelloInput{ProtocolVersion: wire.ProtocolVersion})
	r.c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := r.c.Write(f); err != nil {
		return r, false
	}
	resp, err := r.read(api.OpHello)
	return r, err == nil && resp.Err == nil
}

// closedByServer reports whether the server has closed c (a read ends
// with EOF or a reset) within a few seconds.
func closedByServer(r *rawConn) bool {
	r.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err := r.c.Read(make([]byte, 64))
	return errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)
}

// TestConnectionLimits: one uid cannot hold more than its share of
// connections, nor all users together more than the total less root's
// reserve; root can still connect; a refused uid is logged once, not per
// connection; a connection given back makes room again.
func TestConnectionLimits(t *testing.T) {
	var logs syncBuffer
	ts := startServer(t, func(c *daemon.Config) {
		c.MaxConns, c.MaxConnsPerUID = 9, 3 // root's reserve: 1
		c.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	openToAll(t, ts)
	var nobody []*rawConn
	for i := range 3 {
		r, ok := helloAs(t, ts.sock, 65534)
		if !ok {
			t.Fatalf("nobody's connection %d refused, within its limit of 3", i+1)
		}
		nobody = append(nobody, r)
	}
	for range 4 {
		if _, ok := helloAs(t, ts.sock, 65534); ok {
			t.Fatal("nobody's fourth connection was served")
		}
	}
	if n := strings.Count(logs.String(), "uid=65534"); n != 1 {
		t.Errorf("%d log lines for nobody's refused connections, want 1:\n%s", n, logs.String())
	}
	// 3 (nobody) + 3 (5101) + 2 (5102) = 8: the total, 9, less root's reserve.
	for _, c := range []struct {
		uid  uint32
		want bool
	}{{5101, true}, {5101, true}, {5101, true}, {5102, true}, {5102, true}, {5102, false}, {5103, false}, {0, true}, {0, false}} {
		if _, ok := helloAs(t, ts.sock, c.uid); ok != c.want {
			t.Fatalf("uid %d: served %v, want %v", c.uid, ok, c.want)
		}
	}
	nobody[0].c.Close()
	nobody[1].c.Close()
	for start := time.Now(); ; time.Sleep(10 * time.Millisecond) {
		if _, ok := helloAs(t, ts.sock, 65534); ok {
			break
		}
		if time.Since(start) > 5*time.Second {
			t.Fatal("connections given back did not make room for another")
		}
	}
}

// TestHelloTimeout: a connection that says nothing is closed after the
// hello timeout; one that said Hello is not.
func TestHelloTimeout(t *testing.T) {
	ts := startServer(t, func(c *daemon.Config) { c.HelloTimeout = 200 * time.Millisecond })
	silent := rawDial(t, ts.sock, false)
	talker := rawDial(t, ts.sock, true)
	start := time.Now()
	if !closedByServer(silent) {
		t.Fatal("a connection without Hello was kept")
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("closed after %v", d)
	}
	talker.c.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
	if _, err := talker.c.Read(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("a connection that said Hello was closed: %v", err)
	}
}

// TestOneUserCannotTakeTheBudget: three connections of one user pipeline
// 1,100 requests each and never read an answer. That user waits on its
// share of the in-flight budget; another user (root here) is served
// without one ThrottlingException.
func TestOneUserCannotTakeTheBudget(t *testing.T) {
	ts := startServer(t, func(c *daemon.Config) { c.WriteTimeout = time.Minute })
	openToAll(t, ts)
	var reqs []byte
	for i := range uint64(1100) {
		reqs, _ = wire.AppendRequest(reqs, i+2, api.OpGenerateRandom, &api.GenerateRandomInput{NumberOfBytes: api.Int32(1024)})
	}
	for range 3 {
		r, ok := helloAs(t, ts.sock, 65534)
		if !ok {
			t.Fatal("nobody's Hello refused")
		}
		go r.c.Write(reqs) // never read the answers
	}
	c := dial(t, ts.sock)
	time.Sleep(300 * time.Millisecond) // the non-readers have taken what they can
	if held := daemon.HeldBy(ts.srv, 65534); held == 0 {
		t.Fatal("the non-readers hold nothing: the test does not test")
	}
	for i := range 50 {
		if _, err := c.GenerateRandom(ctx, &api.GenerateRandomInput{NumberOfBytes: api.Int32(16)}); err != nil {
			t.Fatalf("root's call %d while another user holds its share: %v", i, err)
		}
	}
}

// TestFailuresCostTheTrailLittle: a user whose requests fail as fast as it
// can send them gets a bounded number of records, the rest counted in
// summary records, so that every failed call is still in the trail;
// root's failures are all recorded one by one.
func TestFailuresCostTheTrailLittle(t *testing.T) {
	ts := startServer(t)
	openToAll(t, ts)
	r, ok := helloAs(t, ts.sock, 65534)
	if !ok {
		t.Fatal("hello")
	}
	const n = 3000
	var reqs []byte
	for i := range uint64(n) {
		reqs, _ = wire.AppendRequest(reqs, i+2, api.OpEncrypt, &api.EncryptInput{KeyId: "alias/nothing", Plaintext: []byte("x")})
	}
	go r.c.Write(reqs)
	for range n {
		if _, err := r.read(api.OpEncrypt); err != nil {
			t.Fatal(err)
		}
	}
	c := dial(t, ts.sock)
	for range 5 {
		c.Encrypt(ctx, &api.EncryptInput{KeyId: "alias/nothing", Plaintext: []byte("x")})
	}
	dir := ts.srv.AuditDir()
	ts.stop(t) // writes the last summaries
	records, items, summaries, root := 0, 0, 0, 0
	for _, rec := range auditRecords(t, dir) {
		if rec["event"] != "Encrypt" {
			continue
		}
		caller := rec["caller"].(map[string]any)
		if caller["uid"] == 0.0 {
			root++
			continue
		}
		records++
		if it, ok := rec["items"].(float64); ok {
			items += int(it)
		} else {
			items++
		}
		if rec["request_id"] == "summary" {
			summaries++
		}
	}
	if items != n || records > 1100+100 || summaries == 0 {
		t.Fatalf("nobody's %d failures: %d records (%d summaries) standing for %d calls", n, records, summaries, items)
	}
	if root != 5 {
		t.Fatalf("root's 5 failures: %d records", root)
	}
}
