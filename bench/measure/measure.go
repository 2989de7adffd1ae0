// Package measure runs a benchmark body the way every kmsd benchmark does
// and reports the same metrics for kmsd, for the raw limits beside it and
// for the peer KMS, so that `make bench` can put them side by side:
//
//   - ops/s: items per second (a batch of n counts n);
//   - MB/s: payload bytes per second (from b.SetBytes);
//   - p50-µs and p99-µs: the latency of one call (a batch is one call);
//   - allocs/op and B/op: the benchmark process's allocations per call;
//   - client-cores: the benchmark process's CPU time over the run's wall
//     time (the callers, and for kmsd its client library);
//   - server-cores and peak-RSS-MiB: when Spec.PID names the server process,
//     its CPU time over the run divided by the run's wall time, and the
//     most resident memory it held during the run.
//
// Run starts exactly Spec.Callers goroutines, each calling in a loop until
// b.N calls are done, so "64 callers" means 64 calls in flight.
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
}

// Run measures call, which does one call (of Spec.Items items) as worker
// w, 0 <= w < Spec.Callers. An error fails the benchmark.
func Run(b *testing.B, s Spec, call func(w int) error) {
	callers, items := max(1, s.Callers), max(1, s.Items)
	b.SetBytes(int64(s.Bytes * items))
	b.ReportAllocs()
	if s.PID != 0 {
		ResetPeakRSS(s.PID)
	}
	cpu0, self0 := CPUTime(s.PID), CPUTime(os.Getpid())
	lat := make([][]time.Duration, callers)
	var next atomic.Int64
	var wg sync.WaitGroup
	var failed atomic.Bool
	b.ResetTimer()
	for w := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var l []time.Duration
			if !s.NoLatency {
				l = make([]time.Duration, 0, min(b.N/callers+1, 1<<20))
			}
			for next.Add(1) <= int64(b.N) && !failed.Load() {
				var t time.Time
				if !s.NoLatency {
					t = time.Now()
				}
				if err := call(w); err != nil {
					if !failed.Swap(true) {
						b.Error(err)
					}
					return
				}
				if !s.NoLatency {
					l = append(l, time.Since(t))
				}
			}
			lat[w] = l
		}()
	}
	wg.Wait()
	b.StopTimer()
	elapsed := b.Elapsed().Seconds()
	b.ReportMetric(float64(b.N*items)/elapsed, "ops/s")
	if all := slices.Concat(lat...); len(all) > 0 {
		slices.Sort(all)
		b.ReportMetric(float64(all[len(all)/2].Nanoseconds())/1e3, "p50-µs")
		b.ReportMetric(float64(all[len(all)*99/100].Nanoseconds())/1e3, "p99-µs")
	}
	b.ReportMetric((CPUTime(os.Getpid())-self0).Seconds()/elapsed, "client-cores")
	if s.PID != 0 {
		b.ReportMetric((CPUTime(s.PID)-cpu0).Seconds()/elapsed, "server-cores")
		if _, peak, err := RSS(s.PID); err == nil {
			b.ReportMetric(float64(peak)/(1<<20), "peak-RSS-MiB")
		}
	}
}
