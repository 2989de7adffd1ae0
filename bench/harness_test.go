package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"kmsd/internal/testkit"
	"kmsd/wire/api"
	"kmsd/wire/client"
)

var ctx = context.Background()

var daemons atomic.Int32

func TestMain(m *testing.M) {
	if os.Getenv(envChild) != "" {
		os.Exit(runChild()) // a calling process of mode=procs
	}
	os.Exit(testkit.Main(m))
}

// kmsd is a kmsd process started for a benchmark.
type kmsd struct {
	*testkit.Daemon
	pid int
	c   *client.Client // one client: concurrent calls coalesce
	key string         // a symmetric key made at start
}

// startKMSD starts a kmsd process on a fresh state directory, with audit
// and authorization at their defaults unless args say otherwise, and
// stops it (SIGTERM) when the benchmark ends. With KMSD_BENCH_PROFILE set
// to a directory, each daemon writes a CPU profile there; KMSD_BENCH_ARGS
// are more flags for every daemon, and KMSD_BENCH_KMSD another kmsd
// binary to run (to compare settings, or builds, on one machine).
func startKMSD(b *testing.B, args ...string) *kmsd {
	b.Helper()
	return startWith(b, testkit.Config{}, args...)
}

// startWith is startKMSD with more of the process's settings (cfg.Args
// are replaced by args).
func startWith(b *testing.B, cfg testkit.Config, args ...string) *kmsd {
	b.Helper()
	args = append([]string{"--log-level", "warn"}, args...)
	if p := os.Getenv("KMSD_BENCH_PROFILE"); p != "" {
		args = append(args, "--cpu-profile", filepath.Join(p, fmt.Sprintf("%s-%d.prof", strings.ReplaceAll(b.Name(), "/", "_"), daemons.Add(1))))
	}
	args = append(args, strings.Fields(os.Getenv("KMSD_BENCH_ARGS"))...)
	if alt := os.Getenv("KMSD_BENCH_KMSD"); alt != "" {
		// Wrap's last word is run with kmsd's path and flags: this one
		// drops the path and runs alt instead.
		cfg.Wrap = append(cfg.Wrap, "sh", "-c", `shift; exec "$0" "$@"`, alt)
	}
	cfg.Args = args
	d := &kmsd{Daemon: testkit.Start(b, cfg)}
	d.pid = d.Pid()
	d.c = d.dial(b, client.Options{Client: "bench"})
	k, err := d.c.CreateKey(ctx, &api.CreateKeyInput{Description: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	d.key = k.KeyMetadata.KeyId
	return d
}

// heapAllocs is kmsd's count of heap allocations, from Status (the
// Status call's own are a rounding error over a run).
func (d *kmsd) heapAllocs() int64 {
	st, err := d.c.Status(ctx, &api.StatusInput{})
	if err != nil {
		return 0
	}
	return st.HeapAllocs
}

// bulkRing is the ring size the clients that send explicit batches ask
// kmsd for (client.Options.RingSize), as a client sending large batches
// would: kmsd's largest by default. Frames of a batch of 256 × 4 KiB
// (256 KiB each) then pass without either side waiting for room.
const bulkRing = 1 << 20

// dialBulk connects a client for explicit batches, with rings of
// bulkRing bytes: it waits (2 s at most) for the connections closed
// before it, whose rings kmsd gives back as it sees them end, to leave
// the room the uid's share of ring memory needs. A kmsd that offers no
// rings (--ring-size 0), or smaller ones (--max-ring-size), gives what it
// gives, which the log says.
func (d *kmsd) dialBulk(b *testing.B) *client.Client {
	b.Helper()
	o := client.Options{Client: "bench", RingSize: bulkRing}
	if h, err := d.c.Hello(ctx); err == nil && h.Ring == 0 {
		return d.dial(b, o) // no rings: frames, as every client here
	}
	for end := time.Now().Add(2 * time.Second); ; {
		c, err := client.Dial(ctx, d.Sock, o)
		if err != nil {
			b.Fatal(err)
		}
		h, err := c.Hello(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if h.Ring == bulkRing || time.Now().After(end) {
			if h.Ring != bulkRing {
				b.Logf("the batches' client has rings of %d bytes, not %d", h.Ring, bulkRing)
			}
			b.Cleanup(func() { c.Close() })
			return c
		}
		c.Close()
		time.Sleep(20 * time.Millisecond)
	}
}

// dial connects another client.
func (d *kmsd) dial(b *testing.B, o client.Options) *client.Client {
	b.Helper()
	c, err := client.Dial(ctx, d.Sock, o)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	return c
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
