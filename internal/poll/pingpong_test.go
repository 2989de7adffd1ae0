package poll

import (
	"fmt"
	"syscall"
	"testing"
	"time"
)

// BenchmarkPingPong is one byte's round trip between two polling Readers,
// as kmsd and a synchronous client make them; peerDelay is the work the
// answering side does first.
func BenchmarkPingPong(b *testing.B) {
	for _, window := range []time.Duration{0, 50 * time.Microsecond} {
		b.Run("window="+window.String(), func(b *testing.B) {
			a, c := pair(b)
			lim := NewLimit(2)
			ra, rc := NewReader(a, window, nil, lim).Adapt(), NewReader(c, window, nil, lim).Adapt()
			go func() {
				buf := make([]byte, 1)
				for {
					if _, err := rc.Read(buf); err != nil {
						return
					}
					if _, err := c.Write(buf); err != nil {
						return
					}
				}
			}()
			buf := make([]byte, 1)
			b.ResetTimer()
			for range b.N {
				if _, err := a.Write(buf); err != nil {
					b.Fatal(err)
				}
				if _, err := ra.Read(buf); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(ra.Waiting().Nanoseconds()), "a-avg-ns")
			b.ReportMetric(float64(rc.Waiting().Nanoseconds()), "c-avg-ns")
			b.ReportMetric(float64(ra.polls+rc.polls)/float64(b.N), "polls/op")
		})
	}
}

// BenchmarkSlowPeer is a reader whose peer answers 200 µs after each
// request (a client decoding a batch's answers before its next), with a
// window of 50 µs: polling always, every wait burns the window; adapting,
// the reader sleeps. cpu-µs/op is this process's CPU time per exchange
// (the peer's sleep costs none), the reader's cost of waiting.
func BenchmarkSlowPeer(b *testing.B) {
	for _, adapt := range []bool{false, true} {
		b.Run(fmt.Sprintf("adapt=%v", adapt), func(b *testing.B) {
			a, c := pair(b)
			r := NewReader(a, 50*time.Microsecond, nil, NewLimit(1))
			if adapt {
				r.Adapt()
			}
			go func() {
				buf := make([]byte, 1)
				for {
					if _, err := c.Read(buf); err != nil {
						return
					}
					time.Sleep(200 * time.Microsecond)
					if _, err := c.Write(buf); err != nil {
						return
					}
				}
			}()
			buf := make([]byte, 1)
			cpu0 := cpuTime()
			b.ResetTimer()
			for range b.N {
				if _, err := a.Write(buf); err != nil {
					b.Fatal(err)
				}
				if _, err := r.Read(buf); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
			b.ReportMetric(float64(r.polls)/float64(b.N), "polls/op")
		})
	}
}

// cpuTime is this process's user and system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
