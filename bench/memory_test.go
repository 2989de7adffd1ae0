package bench

import (
	"runtime"
	"testing"
	"time"

	"kmsd/bench/measure"
)

// BenchmarkMemory is kmsd's resident memory, idle, after 10,000 keys were
// made (the keys are in its store and its key cache; the audit trail
// holds their records). Each iteration starts a daemon.
func BenchmarkMemory(b *testing.B) {
	b.Run("keys=10000", func(b *testing.B) {
		var idle, peak float64
		for b.Loop() {
			d := startKMSD(b)
			d.createKeys(b, 10_000-1)
			// Idle: what it holds once its background work has settled.
			time.Sleep(2 * time.Second)
			runtime.Gosched()
			now, hwm, err := measure.RSS(d.pid)
			if err != nil {
				b.Fatal(err)
			}
			idle, peak = float64(now)/(1<<20), float64(hwm)/(1<<20)
		}
		b.ReportMetric(idle, "idle-RSS-MiB")
		b.ReportMetric(peak, "peak-RSS-MiB")
	})
}
