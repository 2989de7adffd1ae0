package daemon

import (
	"sync"
	"testing"
	"time"
)

// wedgeable is a pool whose worker hangs on its first pass until released;
// hung is closed once it does.
func wedgeable(size int) (p *pool, hung, release chan struct{}) {
	hung, release = make(chan struct{}), make(chan struct{})
	var once sync.Once
	return newPool(1, size, func([]*job) {
		once.Do(func() { close(hung) })
		<-release
	}), hung, release
}

// eventually waits for cond, which must hold within 10 seconds.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("never: %s", what)
		}
	}
}

// The watchdog pings while the workers take its probes, withholds the ping
// while a pool is wedged (its probe queued behind a hung job, or its queue
// too full to take one and its workers not moving), and pings again once
// the pool moves.
func TestWatchdogWithholdsThePingWhileWedged(t *testing.T) {
	for _, tc := range []struct {
		name  string
		queue int
		fill  int // jobs queued behind the hung one
	}{
		{"probe queued behind a hung job", 8, 0},
		{"queue full", 1, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := NewServer(Config{})
			wedged, hung, release := wedgeable(tc.queue)
			var unwedge sync.Once
			defer func() {
				unwedge.Do(func() { close(release) })
				s.Shutdown(t.Context())
			}()
			s.crypto.stop()
			s.crypto = wedged
			wd := &watchdog{s: s, log: s.log}
			now := time.Now()
			if !wd.tick(now) {
				t.Fatal("no ping at the first tick")
			}
			eventually(t, "the first probes come back", func() bool { return wd.tick(now) })

			wedged.submit(&job{}) // a job that hangs
			<-hung
			for range tc.fill {
				if !wedged.submit(&job{}) {
					t.Fatal("queue full early")
				}
			}
			wd.tick(now) // sends probes into the wedged pool
			for range 3 {
				time.Sleep(20 * time.Millisecond)
				if wd.tick(now) {
					t.Fatal("pinged while the crypto workers were wedged")
				}
			}
			unwedge.Do(func() { close(release) })
			eventually(t, "the ping after the pool moves", func() bool { return wd.tick(now) })
		})
	}
}
