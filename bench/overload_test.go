package bench

import (
	"sync"
	"sync/atomic"
	"testing"

	"kmsd/bench/measure"
	"kmsd/wire/api"
	"kmsd/wire/client"
)

// BenchmarkOverload floods kmsd: 256 callers on 16 connections, each
// sending batches of 1,024 Encrypts of 4 KiB without pause: 1 GiB asked
// of kmsd at once, 32 times its in-flight budget (32 MiB). It reports
// the items answered and throttled per second, and kmsd's peak RSS:
// memory is bounded by refusing (ThrottlingException), not by growing.
func BenchmarkOverload(b *testing.B) {
	d := startKMSD(b)
	conns := make([]*client.Client, 16)
	for i := range conns {
		conns[i] = d.dial(b, client.Options{Client: "bench"})
	}
	items := same(&api.EncryptInput{KeyId: d.key, Plaintext: make([]byte, 4096)}, 1024)
	b.Run("callers=256/conns=16/batch=1024/size=4096", func(b *testing.B) {
		measure.ResetPeakRSS(d.pid)
		var next, ok, throttled atomic.Int64
		var wg sync.WaitGroup
		b.ResetTimer()
		for w := range 256 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := conns[w%len(conns)]
				for next.Add(1) <= int64(b.N) {
					res, err := c.EncryptBatch(ctx, items)
					if err != nil {
						b.Error(err)
						return
					}
					for _, r := range res {
						switch {
						case r.Err == nil:
							ok.Add(1)
						case api.CodeOf(r.Err) == api.CodeThrottling:
							throttled.Add(1)
						default:
							b.Error(r.Err)
							return
						}
					}
				}
			}()
		}
		wg.Wait()
		b.StopTimer()
		s := b.Elapsed().Seconds()
		b.ReportMetric(float64(ok.Load())/s, "ops/s")
		b.ReportMetric(float64(throttled.Load())/s, "throttled/s")
		if _, peak, err := measure.RSS(d.pid); err == nil {
			b.ReportMetric(float64(peak)/(1<<20), "peak-RSS-MiB")
		}
	})
}
