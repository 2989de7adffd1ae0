// Package measure runs a benchmark body the way every kmsd benchmark does
// and reports the same metrics for kmsd, for the raw limits beside it and
// for the peer KMS, so that `make bench` can put them side by side:
//
//   - ops/s: items per second (a batch of n counts n);
//   - MB/s: payload bytes per second (from b.SetBytes);
//   - p50-µs and p99-µs: the latency of one call (a batch is one call);
//   - allocs/op and B/op: the benchmark process's allocations per call;
//   - server-allocs/item: with Spec.ServerAllocs, the server's heap
//     allocations per item over the run (its own count, read before and
//     after);
//   - client-cores: the callers' CPU time over the run's wall time (the
//     benchmark process's, and for kmsd its client library's; with
//     RunProcs, every calling process's together);
//   - server-cores, server-ns/item and peak-RSS-MiB: when Spec.PID names
//     the server process, its CPU time over the run divided by the run's
//     wall time, and by the items served (the cost of one item, which
//     stays flat when the server scales), and the most resident memory
//     it held during the run. CPU time is read from /proc/<pid>/stat, in
//     ticks of 10 ms: a run should take a second or more.
//
// Run starts exactly Spec.Callers goroutines, each calling in a loop until
// b.N calls are done, so "64 callers" means 64 calls in flight. RunProcs
// does the same in separate processes (each running Child), as the
// programs of a host call.
package measure

import (
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Spec says how a benchmark calls and what one call carries.
type Spec struct {
	Callers   int  // goroutines calling at once; 0 or 1 is one synchronous caller
	Items     int  // items per call (a batch's size); 0 means 1
	Bytes     int  // payload bytes per item
	PID       int  // the server process to watch, or 0
	NoLatency bool // skip the clock around each call (for calls of nanoseconds)
	// ServerAllocs, if set, reads the server's count of heap allocations.
	ServerAllocs func() int64
}

// Run measures call, which does one call (of Spec.Items items) as worker
// w, 0 <= w < Spec.Callers. An error fails the benchmark.
func Run(b *testing.B, s Spec, call func(w int) error) {
	b.SetBytes(int64(s.Bytes * max(1, s.Items)))
	b.ReportAllocs()
	if s.PID != 0 {
		ResetPeakRSS(s.PID)
	}
	cpu0, self0, allocs0 := CPUTime(s.PID), CPUTime(os.Getpid()), s.allocs()
	b.ResetTimer()
	lat, err := callLoop(b.N, max(1, s.Callers), s.NoLatency, call)
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	report(b, s, slices.Concat(lat...), b.Elapsed(), CPUTime(os.Getpid())-self0, cpu0, allocs0)
}

// allocs reads the server's allocation count, or 0.
func (s Spec) allocs() int64 {
	if s.ServerAllocs == nil {
		return 0
	}
	return s.ServerAllocs()
}

// callLoop makes n calls from callers goroutines and returns each one's
// latencies (none with noLatency), or the first error.
func callLoop(n, callers int, noLatency bool, call func(w int) error) ([][]time.Duration, error) {
	lat := make([][]time.Duration, callers)
	var next atomic.Int64
	var wg sync.WaitGroup
	var first atomic.Pointer[error]
	for w := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var l []time.Duration
			if !noLatency {
				l = make([]time.Duration, 0, min(n/callers+1, 1<<20))
			}
			for next.Add(1) <= int64(n) && first.Load() == nil {
				var t time.Time
				if !noLatency {
					t = time.Now()
				}
				if err := call(w); err != nil {
					first.CompareAndSwap(nil, &err)
					return
				}
				if !noLatency {
					l = append(l, time.Since(t))
				}
			}
			lat[w] = l
		}()
	}
	wg.Wait()
	if err := first.Load(); err != nil {
		return nil, *err
	}
	return lat, nil
}

// report reports a run's metrics: lat are its calls' latencies, clientCPU
// the CPU time its callers' processes took, cpu0 and allocs0 the server's
// CPU time and allocations when it began.
func report(b *testing.B, s Spec, lat []time.Duration, elapsed, clientCPU, cpu0 time.Duration, allocs0 int64) {
	sec := elapsed.Seconds()
	items := float64(b.N * max(1, s.Items))
	b.ReportMetric(items/sec, "ops/s")
	if s.ServerAllocs != nil {
		b.ReportMetric(float64(s.ServerAllocs()-allocs0)/items, "server-allocs/item")
	}
	if len(lat) > 0 {
		slices.Sort(lat)
		b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds())/1e3, "p50-µs")
		b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds())/1e3, "p99-µs")
	}
	b.ReportMetric(clientCPU.Seconds()/sec, "client-cores")
	if s.PID != 0 {
		cpu := CPUTime(s.PID) - cpu0
		b.ReportMetric(cpu.Seconds()/sec, "server-cores")
		b.ReportMetric(float64(cpu.Nanoseconds())/items, "server-ns/item")
		if _, peak, err := RSS(s.PID); err == nil {
			b.ReportMetric(float64(peak)/(1<<20), "peak-RSS-MiB")
		}
	}
}
