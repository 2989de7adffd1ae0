package daemon_test

import (
	"sync/atomic"
	"testing"
	"time"

	"kmsd/wire/api"
)

func TestTrimWhenIdle(t *testing.T) {
	ts := startServer(t)
	c := dial(t, ts.sock)
	var trims atomic.Int32
	stop := make(chan struct{})
	defer close(stop)
	go ts.srv.TrimWhenIdle(stop, 10*time.Millisecond, func() { trims.Add(1) })
	// An idle spell trims after 1, 2, 4, 8, 16, 32 and 64 idle ticks: 7
	// times, and then no more however long it lasts.
	waitTrims := func(want int32) {
		t.Helper()
		for start := time.Now(); trims.Load() < want; time.Sleep(5 * time.Millisecond) {
			if time.Since(start) > 5*time.Second {
				t.Fatalf("%d trims, want %d", trims.Load(), want)
			}
		}
		time.Sleep(300 * time.Millisecond) // 30 more idle ticks
		if got := trims.Load(); got != want {
			t.Fatalf("%d trims while idle, want %d", got, want)
		}
	}
	time.Sleep(50 * time.Millisecond)
	if trims.Load() != 0 {
		t.Fatal("trimmed before any request")
	}
	key := newKey(t, c)
	waitTrims(7)
	if _, err := c.Encrypt(ctx, &api.EncryptInput{KeyId: key, Plaintext: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	waitTrims(14)
}
