package e2e

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"kmsd/internal/testkit"
	"kmsd/wire/api"
)

// scrape reads the metrics served on a Unix socket, by name and labels.
func scrape(t *testing.T, sock string) map[string]float64 {
	t.Helper()
	// A connection a scrape: none is left open to count against the
	// metrics listener's few per peer, however often a test scrapes.
	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true, DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", sock)
	}}}
	resp, err := hc.Get("http://kmsd/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(io.LimitReader(resp.Body, 1<<20))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
			out[line[:i]] = v
		}
	}
	return out
}

// TestMetricsMove: the metrics listener serves Prometheus metrics whose
// counters move with the requests: requests by operation and result, the
// latency histogram, audit bytes, connections by uid, open fds.
func TestMetricsMove(t *testing.T) {
	t.Parallel()
	dir := testkit.ShortDir(t)
	sock := filepath.Join(dir, "metrics.sock")
	d := testkit.Start(t, testkit.Config{Dir: dir, Args: []string{"--metrics-listen", "unix:" + sock}})
	c := d.Dial(t)
	ctx := context.Background()
	k, err := c.CreateKey(ctx, &api.CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	before := scrape(t, sock)
	for range 7 {
		c.Encrypt(ctx, &api.EncryptInput{KeyId: k.KeyMetadata.KeyId, Plaintext: []byte("x")})
	}
	c.Encrypt(ctx, &api.EncryptInput{KeyId: "alias/missing", Plaintext: []byte("x")})
	items := make([]*api.EncryptInput, 100)
	for i := range items {
		items[i] = &api.EncryptInput{KeyId: k.KeyMetadata.KeyId, Plaintext: []byte("x")}
	}
	c.EncryptBatch(ctx, items)
	after := scrape(t, sock)
	ok := `kmsd_requests_total{operation="Encrypt",result="success"}`
	nf := `kmsd_requests_total{operation="Encrypt",result="NotFoundException"}`
	if got := after[ok] - before[ok]; got != 107 {
		t.Errorf("%s moved by %v, want 107", ok, got)
	}
	if after[nf]-before[nf] != 1 {
		t.Errorf("%s moved by %v, want 1", nf, after[nf]-before[nf])
	}
	for _, name := range []string{`kmsd_request_duration_seconds_count{kind="single"}`, `kmsd_request_duration_seconds_count{kind="batch"}`,
		`kmsd_audit_bytes_total`, `kmsd_batch_items_count`} {
		if after[name] <= before[name] {
			t.Errorf("%s did not move: %v -> %v", name, before[name], after[name])
		}
	}
	if after[`kmsd_connections{uid="0"}`] < 1 || after["process_open_fds"] <= 0 || after["process_resident_memory_bytes"] <= 0 || after["kmsd_audit_up"] != 1 {
		t.Errorf("gauges: %v %v %v %v", after[`kmsd_connections{uid="0"}`], after["process_open_fds"], after["process_resident_memory_bytes"], after["kmsd_audit_up"])
	}
}
