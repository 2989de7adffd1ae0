package bench

import (
	"testing"
	"time"

	"kmsd/bench/measure"
)

// BenchmarkMemory is kmsd's resident memory, idle, after 10,000 keys were
// made (the keys are in its store and its key table; the audit trail
// holds their records). Idle means settled: kmsd returns freed memory to
// the system over its first seconds without requests (after 1, 2, 4, 8
// and 16 s), and the figure is taken after 18 s, with its two main parts:
// anonymous memory (kmsd's heap and runtime) and pages of mapped files
// (mostly kmsd's own executable, which the kernel maps in large folios,
// and the store's tables). Each iteration starts a daemon.
func BenchmarkMemory(b *testing.B) {
	b.Run("keys=10000", func(b *testing.B) {
		var idle, busy, peak, anon, file float64
		for b.Loop() {
			d := startKMSD(b)
			d.createKeys(b, 10_000-1)
			now, _, err := measure.RSS(d.pid)
			if err != nil {
				b.Fatal(err)
			}
			busy = float64(now) / (1 << 20)
			time.Sleep(18 * time.Second)
			now, hwm, err := measure.RSS(d.pid)
			if err != nil {
				b.Fatal(err)
			}
			idle, peak = float64(now)/(1<<20), float64(hwm)/(1<<20)
			a, f, _, err := measure.RSSParts(d.pid)
			if err != nil {
				b.Fatal(err)
			}
			anon, file = float64(a)/(1<<20), float64(f)/(1<<20)
		}
		b.ReportMetric(busy, "RSS-at-once-MiB")
		b.ReportMetric(idle, "idle-RSS-MiB")
		b.ReportMetric(anon, "idle-anon-MiB")
		b.ReportMetric(file, "idle-file-MiB")
		b.ReportMetric(peak, "peak-RSS-MiB")
	})
}
