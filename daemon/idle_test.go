package daemon_test

import (
	"sync/atomic"
	"testing"
	"time"

	"kmsd/wire/api"
)

// TestTrimWhenIdle drives the idle trimmer with ticks of its own: an idle
// spell after a request trims after 1, 2, 4, 8, 16, 32 and 64 idle ticks,
// 7 times, and then no more however long it lasts; a request starts the
// series again; without any request there is nothing to trim.
func TestTrimWhenIdle(t *testing.T) {
	ts := startServer(t)
	c := dial(t, ts.sock)
	var trims atomic.Int32
	stop, ticks := make(chan struct{}), make(chan time.Time)
	defer close(stop)
	go ts.srv.TrimWhenIdle(stop, ticks, func() { trims.Add(1) })
	// A tick is taken when the trimmer is back waiting: after the send of
	// tick n+1, tick n has been dealt with.
	tick := func(n int) {
		for range n + 1 {
			ticks <- time.Now()
		}
	}
	tick(100)
	if got := trims.Load(); got != 0 {
		t.Fatalf("%d trims before any request", got)
	}
	key := newKey(t, c)
	tick(200)
	if got := trims.Load(); got != 7 {
		t.Fatalf("%d trims in an idle spell, want 7", got)
	}
	if _, err := c.Encrypt(ctx, &api.EncryptInput{KeyId: key, Plaintext: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	tick(200)
	if got := trims.Load(); got != 14 {
		t.Fatalf("%d trims after a second spell, want 14", got)
	}
}
