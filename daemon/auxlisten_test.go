package daemon_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"kmsd/daemon"
	"kmsd/internal/testkit"
	"kmsd/wire/api"
)

// TestMetricsListenerWithinBudget: a local user who opens connections to
// the metrics listener as fast as it can holds a handful of them, no
// more (the rest are closed at once, so kmsd's descriptors stay its
// own); root is served on the main socket meanwhile, and once the flood
// ends a scrape is served again.
func TestMetricsListenerWithinBudget(t *testing.T) {
	ts := startServer(t, func(c *daemon.Config) { c.Metrics, c.MaxConns = true, 64 })
	ml, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go ts.srv.ServeMetrics(ml)
	t.Cleanup(func() { ml.Close() })
	addr := ml.Addr().String()

	var flood []net.Conn
	for range 100 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		flood = append(flood, c)
	}
	// kmsd closes what it does not admit: such a connection reads EOF
	// (or a reset) at once; one it holds reads nothing until the deadline.
	time.Sleep(100 * time.Millisecond)
	held := 0
	for _, c := range flood {
		c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		if _, err := c.Read(make([]byte, 1)); errors.Is(err, os.ErrDeadlineExceeded) {
			held++
		} else if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) && !isReset(err) {
			t.Fatalf("a refused connection: %v", err)
		}
	}
	if held == 0 || held > 4 {
		t.Fatalf("kmsd holds %d of 100 metrics connections from one peer, want 1 to 4", held)
	}
	newKey(t, dial(t, ts.sock)) // root, on the main socket, during the flood

	for _, c := range flood {
		c.Close()
	}
	for end := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		resp, err := http.Get("http://" + addr + "/metrics")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(end) {
			t.Fatalf("no scrape after the flood: %v", err)
		}
	}
}

func isReset(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Err != nil && (op.Err.Error() == "read: connection reset by peer")
}

// TestMetricsOnTCPTellNoOnesBusiness: on TCP, which every local user can
// reach, the metrics count connections in total only; the Unix listener
// (mode 0660) counts them by uid too.
func TestMetricsOnTCPTellNoOnesBusiness(t *testing.T) {
	ts := startServer(t, func(c *daemon.Config) { c.Metrics = true })
	newKey(t, dial(t, ts.sock)) // a connection of root's
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	unixSock := filepath.Join(testkit.ShortDir(t), "m.sock")
	ux, err := net.Listen("unix", unixSock)
	if err != nil {
		t.Fatal(err)
	}
	go ts.srv.ServeMetrics(tcp)
	go ts.srv.ServeMetrics(ux)
	t.Cleanup(func() { tcp.Close(); ux.Close() })
	get := func(hc *http.Client) string {
		resp, err := hc.Get("http://" + tcp.Addr().String() + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	overTCP := get(http.DefaultClient)
	overUnix := get(&http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", unixSock)
	}}})
	if strings.Contains(overTCP, `uid="`) || !strings.Contains(overTCP, "kmsd_connections_open ") {
		t.Errorf("over TCP:\n%s", grepLines(overTCP, "kmsd_connections"))
	}
	if !strings.Contains(overUnix, `kmsd_connections{uid="0"}`) || !strings.Contains(overUnix, "kmsd_connections_open ") {
		t.Errorf("over the Unix socket:\n%s", grepLines(overUnix, "kmsd_connections"))
	}
	if !strings.Contains(overTCP, `kmsd_requests_total{operation="CreateKey",result="success"}`) {
		t.Errorf("over TCP, the service-wide counts are gone:\n%s", grepLines(overTCP, "kmsd_requests_total"))
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestCostlyRequestsDoNotStarveTheRest: eight callers looping on
// GetParametersForImport (an RSA-4096 key pair each) are admitted one at
// a time, the rest answered ThrottlingException at once, so the
// management workers stay free for others: every CreateKey made during
// the flood is served.
func TestCostlyRequestsDoNotStarveTheRest(t *testing.T) {
	ts := startServer(t)
	c := dial(t, ts.sock)
	ext, err := c.CreateKey(ctx, &api.CreateKeyInput{Origin: api.OriginExternal})
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var served, throttled atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fc := dial(t, ts.sock)
			for {
				select {
				case <-stop:
					return
				default:
				}
				_, err := fc.GetParametersForImport(ctx, &api.GetParametersForImportInput{KeyId: ext.KeyMetadata.KeyId,
					WrappingAlgorithm: api.WrapOAEPSHA256, WrappingKeySpec: api.WrapRSA4096})
				switch {
				case err == nil:
					served.Add(1)
				case api.CodeOf(err) == api.CodeThrottling:
					throttled.Add(1)
				default:
					t.Error(err)
					return
				}
			}
		}()
	}
	for i := range 20 {
		if _, err := c.CreateKey(ctx, &api.CreateKeyInput{}); err != nil {
			t.Fatalf("CreateKey %d during the flood: %v", i, err)
		}
	}
	// The flood goes on until the gate has both served and refused (on a
	// loaded machine the cheap requests may all be done before two
	// costly ones meet at the gate), or for 30 s at most.
	for end := time.Now().Add(30 * time.Second); time.Now().Before(end) && (served.Load() == 0 || throttled.Load() == 0); {
		time.Sleep(10 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	if served.Load() == 0 || throttled.Load() == 0 {
		t.Fatalf("%d costly requests served, %d throttled: want both", served.Load(), throttled.Load())
	}
}
