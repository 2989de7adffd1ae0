package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"kmsd/wire"
)

var (
	buildOnce sync.Once
	binDir    string
	buildErr  error
)

// kmsdBinary builds cmd/kmsd once per run (without the race detector).
func kmsdBinary(b *testing.B) string {
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "kmsd-bench")
		if buildErr != nil {
			return
		}
		out, err := exec.Command("go", "build", "-o", binDir+"/", "kmsd/cmd/kmsd").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("%v\n%s", err, out)
		}
	})
	if buildErr != nil {
		b.Fatal(buildErr)
	}
	return filepath.Join(binDir, "kmsd")
}

// daemon starts a kmsd process on a fresh state directory for the
// benchmark and returns a connected client and a key id.
func daemon(b *testing.B, args ...string) (sock string, c *wire.Client, key string) {
	b.Helper()
	dir, err := os.MkdirTemp("", "kmsd")
	if err != nil {
		b.Fatal(err)
	}
	sock = filepath.Join(dir, "s")
	cmd := exec.Command(kmsdBinary(b), append([]string{"--state-dir", filepath.Join(dir, "state"), "--socket", sock, "--log-level", "warn"}, args...)...)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { cmd.Process.Kill(); cmd.Wait(); os.RemoveAll(dir) })
	ctx := context.Background()
	for start := time.Now(); ; time.Sleep(10 * time.Millisecond) {
		if c, err = wire.Dial(ctx, sock, wire.Options{Client: "bench"}); err == nil {
			break
		}
		if time.Since(start) > 20*time.Second {
			b.Fatalf("kmsd did not start: %v", err)
		}
	}
	b.Cleanup(func() { c.Close() })
	k, err := c.CreateKey(ctx, &wire.CreateKeyInput{Description: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	return sock, c, k.KeyMetadata.KeyId
}

// latencies records per-operation latencies and reports p50 and p99.
type latencies []time.Duration

func (l latencies) report(b *testing.B) {
	if len(l) == 0 {
		return
	}
	s := slices.Clone(l)
	slices.Sort(s)
	b.ReportMetric(float64(s[len(s)/2].Nanoseconds())/1e3, "p50-µs")
	b.ReportMetric(float64(s[len(s)*99/100].Nanoseconds())/1e3, "p99-µs")
}

// opsPerSec reports n operations over the benchmark's elapsed time.
func opsPerSec(b *testing.B, n int) {
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "ops/s")
}
