package measure

import (
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

func TestRunReports(t *testing.T) {
	for _, s := range []Spec{{Callers: 1, Bytes: 32}, {Callers: 8, Items: 4, Bytes: 16, PID: os.Getpid()}} {
		r := testing.Benchmark(func(b *testing.B) {
			Run(b, s, func(int) error { time.Sleep(10 * time.Microsecond); return nil })
		})
		if r.N == 0 || r.Extra["ops/s"] <= 0 || r.Extra["p50-µs"] < 10 || r.Extra["p99-µs"] < r.Extra["p50-µs"] {
			t.Errorf("%+v: %v %v", s, r, r.Extra)
		}
		if r.Bytes != int64(s.Bytes*max(1, s.Items)) {
			t.Errorf("%+v: SetBytes %d", s, r.Bytes)
		}
		// Items per call: ops/s counts items, so it is Items times the calls.
		calls := float64(r.N) / r.T.Seconds()
		if got := r.Extra["ops/s"] / calls; got < float64(max(1, s.Items))*0.9 || got > float64(max(1, s.Items))*1.1 {
			t.Errorf("%+v: ops/s is %.2f x calls/s", s, got)
		}
		if _, ok := r.Extra["server-cores"]; ok != (s.PID != 0) {
			t.Errorf("%+v: server-cores reported %v", s, ok)
		}
		// This process is the "server" of the second spec: its CPU per
		// item is its CPU time (cores times wall time) over the items.
		if ns, ok := r.Extra["server-ns/item"]; ok != (s.PID != 0) {
			t.Errorf("%+v: server-ns/item reported %v", s, ok)
		} else if ok {
			want := r.Extra["server-cores"] * 1e9 / r.Extra["ops/s"]
			if ns < 0 || math.Abs(ns-want) > 0.01*want+1 {
				t.Errorf("%+v: server-ns/item %.0f, cores/throughput gives %.0f", s, ns, want)
			}
		}
	}
}

// TestRunProcs runs this test binary as the calling processes (see
// TestChild): every call of b.N is made once, by one of them, and the
// latencies they report are read back.
func TestRunProcs(t *testing.T) {
	var calls atomic.Int64
	dir := t.TempDir()
	r := testing.Benchmark(func(b *testing.B) {
		RunProcs(b, Spec{Callers: 2, Bytes: 8}, 3, func(p, n int) *exec.Cmd {
			c := exec.Command(os.Args[0], "-test.run=^TestChild$")
			c.Env = append(os.Environ(), "MEASURE_CHILD="+strconv.Itoa(n), "MEASURE_COUNT="+filepath.Join(dir, strconv.Itoa(p)))
			return c
		})
	})
	for p := range 3 {
		b, _ := os.ReadFile(filepath.Join(dir, strconv.Itoa(p)))
		n, _ := strconv.Atoi(string(b))
		calls.Add(int64(n))
	}
	if r.N == 0 || r.Extra["ops/s"] <= 0 || r.Extra["p50-µs"] < 100 || r.Extra["client-cores"] <= 0 {
		t.Errorf("%v %v", r, r.Extra)
	}
	// The last run's calls: each process writes how many it made.
	if calls.Load() != int64(r.N) {
		t.Errorf("the processes made %d calls for b.N = %d", calls.Load(), r.N)
	}
}

// TestChild is a calling process of TestRunProcs (and does nothing in a
// normal run): each call sleeps 100 µs.
func TestChild(t *testing.T) {
	n, err := strconv.Atoi(os.Getenv("MEASURE_CHILD"))
	if err != nil {
		t.Skip("run by TestRunProcs")
	}
	var made atomic.Int64
	if err := Child(n, 2, func(int) error { made.Add(1); time.Sleep(100 * time.Microsecond); return nil }); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(os.Getenv("MEASURE_COUNT"), []byte(strconv.FormatInt(made.Load(), 10)), 0o600)
}

func TestRunFails(t *testing.T) {
	var failed bool
	testing.Benchmark(func(b *testing.B) {
		defer func() { failed = b.Failed() }()
		Run(b, Spec{Callers: 4}, func(int) error { return errors.New("refused") })
	})
	if !failed {
		t.Error("an error from call did not fail the benchmark")
	}
}

func TestProc(t *testing.T) {
	pid := os.Getpid()
	before := CPUTime(pid)
	for start := time.Now(); time.Since(start) < 50*time.Millisecond; {
	}
	if got := CPUTime(pid) - before; got < 20*time.Millisecond {
		t.Errorf("CPUTime rose by %v over 50ms of spinning", got)
	}
	if CPUTime(0) != 0 || CPUTime(1<<30) != 0 {
		t.Error("CPUTime of no process is not 0")
	}
	now, peak, err := RSS(pid)
	if err != nil || now <= 0 || peak < now {
		t.Fatalf("RSS: %d %d %v", now, peak, err)
	}
	big := make([]byte, 64<<20)
	for i := range big {
		big[i] = 1
	}
	_, peak2, _ := RSS(pid)
	if peak2 < peak+32<<20 {
		t.Errorf("peak RSS %d MiB after touching 64 MiB more than %d MiB", peak2>>20, peak>>20)
	}
	runtime.KeepAlive(big)
	if os.Geteuid() == 0 {
		if err := ResetPeakRSS(pid); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := RSS(1 << 30); err == nil {
		t.Error("RSS of no process succeeded")
	}
	anon, file, shmem, err := RSSParts(pid)
	// Two reads of the file: the runtime may map a page or two between them.
	if now, _, _ := RSS(pid); err != nil || anon < 64<<20 || file <= 0 || shmem < 0 || max(now-anon-file-shmem, anon+file+shmem-now) > 1<<20 {
		t.Errorf("RSSParts: anon %d, file %d, shmem %d (%v); RSS %d: want 64 MiB of anon at least, some file, and about their sum", anon, file, shmem, err, now)
	}
	runtime.KeepAlive(big)
	if _, _, _, err := RSSParts(1 << 30); err == nil {
		t.Error("RSSParts of no process succeeded")
	}
}
