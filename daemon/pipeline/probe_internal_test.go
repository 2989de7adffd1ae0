package pipeline

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
	return newPool(1, size, func([]*Request) {
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

// The probes come back while the workers take them, do not while a pool
// is wedged (its probe queued behind a hung request, or its queue too full
// to take one and its workers not moving), and come back again once the
// pool moves. tick is the watchdog's (package daemon): a ping is due when
// every probe sent at the last tick is back, and sends the next round.
func TestProbesDoNotComeBackWhileWedged(t *testing.T) {
	for _, tc := range []struct {
		name  string
		queue int
		fill  int // jobs queued behind the hung one
	}{
		{"probe queued behind a hung job", 8, 0},
		{"queue full", 1, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := New(Config{})
			wedged, hung, release := wedgeable(tc.queue)
			var unwedge sync.Once
			defer func() {
				unwedge.Do(func() { close(release) })
				p.Stop()
			}()
			p.crypto.stop()
			p.crypto = wedged
			var pending []*Stage
			tick := func() bool {
				for _, st := range pending {
					if !st.Done() {
						return false
					}
				}
				pending = p.Probe()
				return true
			}
			if !tick() {
				t.Fatal("no ping at the first tick")
			}
			eventually(t, "the first probes come back", func() bool { return tick() })

			wedged.submit(&Request{}) // a request that hangs
			<-hung
			for range tc.fill {
				if !wedged.submit(&Request{}) {
					t.Fatal("queue full early")
				}
			}
			// The probes sent before the wedge come back (a worker took them),
			// and the tick that sees them back sends the next into the
			// wedged pool.
			eventually(t, "the probes sent before the wedge come back", tick)
			for range 3 {
				time.Sleep(20 * time.Millisecond)
				if tick() {
					t.Fatal("pinged while the crypto workers were wedged")
				}
			}
			unwedge.Do(func() { close(release) })
			eventually(t, "the ping after the pool moves", func() bool { return tick() })
		})
	}
}
