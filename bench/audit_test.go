package bench

import (
	"testing"

	"kmsd/bench/measure"
	"kmsd/wire/api"
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
		d := startKMSD(b, mode.args...)
		in := &api.EncryptInput{KeyId: d.key, Plaintext: make([]byte, 32)}
		for _, callers := range []int{1024, 64} {
			b.Run(mode.name+"/callers="+itoa(callers), func(b *testing.B) {
				measure.Run(b, measure.Spec{Callers: callers, Bytes: 32, PID: d.pid}, func(int) error {
					_, err := d.c.Encrypt(ctx, in)
					return err
				})
			})
		}
		items := same(in, 256)
		b.Run(mode.name+"/batch=256", func(b *testing.B) {
			measure.Run(b, measure.Spec{Items: 256, Bytes: 32, PID: d.pid}, func(int) error {
				return firstErr(d.c.EncryptBatch(ctx, items))
			})
		})
	}
}

// BenchmarkLatency is one synchronous caller's Encrypt of 32 B with the
// audit trail flushed per group (the default), written but not flushed,
// and off: where the time of one call goes.
func BenchmarkLatency(b *testing.B) {
	for _, mode := range []struct {
		name string
		args []string
	}{{"audit=batch", nil}, {"audit=none", []string{"--audit-sync", "none"}}, {"audit=off", []string{"--no-audit"}}} {
		b.Run(mode.name, func(b *testing.B) {
			d := startKMSD(b, mode.args...)
			in := &api.EncryptInput{KeyId: d.key, Plaintext: make([]byte, 32)}
			measure.Run(b, measure.Spec{Bytes: 32, PID: d.pid}, func(int) error {
				_, err := d.c.Encrypt(ctx, in)
				return err
			})
		})
	}
}
