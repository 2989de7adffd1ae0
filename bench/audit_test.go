package bench

import (
	"strconv"
	"testing"

	"kmsd/wire"
)

// BenchmarkAudit measures Encrypt 32 B throughput with the audit trail at
// its default (a record per request, fdatasync per group before the
// replies leave) and without it, in the same run: with 1,024 concurrent
// callers (saturation: the most each can sustain), with 64 (where flush
// latency, not work, bounds the rate), and with batches of 256.
func BenchmarkAudit(b *testing.B) {
	for _, mode := range []struct {
		name string
		args []string
	}{{"audit=off", []string{"--no-audit"}}, {"audit=batch", nil}} {
		_, c, key := daemon(b, mode.args...)
		in := &wire.EncryptInput{KeyId: key, Plaintext: make([]byte, 32)}
		for _, callers := range []int{1024, 64} {
			b.Run(mode.name+"/callers="+strconv.Itoa(callers), func(b *testing.B) {
				b.SetParallelism(callers / max(1, runtimeProcs()))
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if _, err := c.Encrypt(ctx, in); err != nil {
							b.Error(err)
							return
						}
					}
				})
				opsPerSec(b, b.N)
			})
		}
		items := make([]*wire.EncryptInput, 256)
		for i := range items {
			items[i] = in
		}
		b.Run(mode.name+"/batch=256", func(b *testing.B) {
			for b.Loop() {
				if _, err := c.EncryptBatch(ctx, items); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*256)/b.Elapsed().Seconds(), "items/s")
		})
	}
}
