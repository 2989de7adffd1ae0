package fleet

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"kmsd/internal/testkit"
	"kmsd/wire/api"
	"kmsd/wire/client"
)

// benchRuns counts BenchmarkFleet's runs (-count).
var benchRuns int

// BenchmarkFleet measures, in one run: Encrypt batches of 256 and one
// caller's Encrypt on a fleet host against a Badger host (the fleet's
// crypto must not wait on etcd), then CreateKey's latency on a fleet
// host and how long a DisableKey on one host takes to be enforced on
// another (p50 and p99). make bench runs it.
func BenchmarkFleet(b *testing.B) {
	c := startCluster(b, 1)
	dir := testkit.ShortDir(b)
	badger := testkit.Start(b, testkit.Config{Dir: dir})
	fa := benchHost(b, c, "a", nil)
	rk, err := os.ReadFile(filepath.Join(fa.State, "root-key"))
	if err != nil {
		b.Fatal(err)
	}
	fb := benchHost(b, c, "b", rk)
	ctx := context.Background()
	hosts := []struct {
		name string
		d    *testkit.Daemon
	}{{"badger", badger}, {"fleet", fa}}
	if benchRuns++; benchRuns%2 == 0 { // with -count, each goes first in turn
		hosts[0], hosts[1] = hosts[1], hosts[0]
	}
	for _, h := range hosts {
		cl := h.d.Dial(b)
		k, err := cl.CreateKey(ctx, &api.CreateKeyInput{})
		if err != nil {
			b.Fatal(err)
		}
		items := make([]*api.EncryptInput, 256)
		for i := range items {
			items[i] = &api.EncryptInput{KeyId: k.KeyMetadata.KeyId, Plaintext: make([]byte, 32)}
		}
		b.Run("store="+h.name+"/op=Encrypt/mode=batch=256", func(b *testing.B) {
			for b.Loop() {
				if _, err := cl.EncryptBatch(ctx, items); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*len(items))/b.Elapsed().Seconds(), "items/s")
		})
		b.Run("store="+h.name+"/op=Encrypt/mode=sync", func(b *testing.B) {
			for b.Loop() {
				if _, err := cl.Encrypt(ctx, items[0]); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
		})
	}
	ca, cb := fa.Dial(b), fb.Dial(b)
	b.Run("store=fleet/op=CreateKey", func(b *testing.B) {
		var lat []time.Duration
		for b.Loop() {
			start := time.Now()
			if _, err := ca.CreateKey(ctx, &api.CreateKeyInput{}); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(start))
		}
		reportLatency(b, lat)
	})
	k, err := ca.CreateKey(ctx, &api.CreateKeyInput{})
	if err != nil {
		b.Fatal(err)
	}
	id := k.KeyMetadata.KeyId
	b.Run("store=fleet/op=DisableKeyPropagation", func(b *testing.B) {
		var lat []time.Duration
		for b.Loop() {
			if _, err := ca.EnableKey(ctx, &api.KeyIDInput{KeyId: id}); err != nil {
				b.Fatal(err)
			}
			waitCode(b, cb, id, "")
			start := time.Now()
			if _, err := ca.DisableKey(ctx, &api.KeyIDInput{KeyId: id}); err != nil {
				b.Fatal(err)
			}
			waitCode(b, cb, id, api.CodeDisabled)
			lat = append(lat, time.Since(start))
		}
		reportLatency(b, lat)
	})
}

func benchHost(b *testing.B, c *cluster, name string, rk []byte) *testkit.Daemon {
	dir := testkit.ShortDir(b)
	if rk != nil {
		os.MkdirAll(filepath.Join(dir, "state"), 0o700)
		os.WriteFile(filepath.Join(dir, "state", "root-key"), rk, 0o600)
	}
	return testkit.Start(b, testkit.Config{Dir: dir, Args: fleetArgs(c, name, "/bench/")})
}

// waitCode polls Encrypt on cl until it answers code ("" success).
func waitCode(b *testing.B, cl *client.Client, id, code string) {
	end := time.Now().Add(5 * time.Second)
	for {
		_, err := cl.Encrypt(context.Background(), &api.EncryptInput{KeyId: id, Plaintext: []byte("x")})
		if api.CodeOf(err) == code {
			return
		}
		if time.Now().After(end) {
			b.Fatalf("Encrypt on the other host: %v, want %q", err, code)
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// reportLatency reports the p50 and p99 of lat in microseconds.
func reportLatency(b *testing.B, lat []time.Duration) {
	slices.Sort(lat)
	at := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))].Microseconds()) }
	b.ReportMetric(at(0.5), "p50-µs")
	b.ReportMetric(at(0.99), "p99-µs")
	b.ReportMetric(0, "ns/op")
}
