package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"kmsd/wire/api"
	"kmsd/wire/client"
)

var ctx = context.Background()

var (
	buildOnce sync.Once
	binDir    string
	buildErr  error
	daemons   atomic.Int32
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

// kmsd is a kmsd process started for a benchmark.
type kmsd struct {
	sock string
	dir  string
	pid  int
	c    *client.Client // one client: concurrent calls coalesce
	key  string         // a symmetric key made at start
}

// startKMSD starts a kmsd process on a fresh state directory, with audit
// and authorization at their defaults unless args say otherwise, and
// stops it (SIGTERM) when the benchmark ends. With KMSD_BENCH_PROFILE set
// to a directory, each daemon writes a CPU profile there.
func startKMSD(b *testing.B, args ...string) *kmsd {
	b.Helper()
	dir, err := os.MkdirTemp("", "kmsd")
	if err != nil {
		b.Fatal(err)
	}
	d := &kmsd{sock: filepath.Join(dir, "s"), dir: dir}
	args = append([]string{"--state-dir", filepath.Join(dir, "state"), "--socket", d.sock, "--log-level", "warn"}, args...)
	if p := os.Getenv("KMSD_BENCH_PROFILE"); p != "" {
		args = append(args, "--cpu-profile", filepath.Join(p, fmt.Sprintf("%s-%d.prof", strings.ReplaceAll(b.Name(), "/", "_"), daemons.Add(1))))
	}
	cmd := exec.Command(kmsdBinary(b), args...)
	// Its log goes to a file, shown only if the benchmark fails, so that
	// the benchmark output stays benchstat's format.
	logf, err := os.Create(filepath.Join(dir, "kmsd.log"))
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = logf
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	d.pid = cmd.Process.Pid
	b.Cleanup(func() {
		// SIGTERM, so that a CPU profile is written.
		cmd.Process.Signal(syscall.SIGTERM)
		t := time.AfterFunc(10*time.Second, func() { cmd.Process.Kill() })
		cmd.Wait()
		t.Stop()
		if b.Failed() {
			logf.Seek(0, 0)
			io.Copy(os.Stderr, logf)
		}
		logf.Close()
		os.RemoveAll(dir)
	})
	d.c = d.dial(b, client.Options{Client: "bench"})
	k, err := d.c.CreateKey(ctx, &api.CreateKeyInput{Description: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	d.key = k.KeyMetadata.KeyId
	return d
}

// dial connects another client, waiting for kmsd to listen.
func (d *kmsd) dial(b *testing.B, o client.Options) *client.Client {
	b.Helper()
	for start := time.Now(); ; time.Sleep(10 * time.Millisecond) {
		c, err := client.Dial(ctx, d.sock, o)
		if err == nil {
			b.Cleanup(func() { c.Close() })
			return c
		}
		if time.Since(start) > 20*time.Second {
			b.Fatalf("kmsd did not start: %v", err)
		}
	}
}

// createKeys makes n more keys, 64 at a time.
func (d *kmsd) createKeys(b *testing.B, n int) {
	var wg sync.WaitGroup
	var next atomic.Int64
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) {
				if _, err := d.c.CreateKey(ctx, &api.CreateKeyInput{Description: "bench"}); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}
