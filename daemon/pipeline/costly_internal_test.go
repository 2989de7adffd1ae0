package pipeline

import (
	"testing"
	"time"
)

// TestCostlyGate: a user's costly requests run one at a time and at a
// rate; all of them never take every management worker; root is held to
// that total only.
func TestCostlyGate(t *testing.T) {
	now := time.Now()
	g := newCostlyGate(3) // two costly at once, one worker kept for the rest
	if g.take(1000, now) != nil {
		t.Fatal("a first costly request refused")
	}
	if g.take(1000, now) == nil {
		t.Fatal("a second costly request of the same user while one runs")
	}
	if g.take(1001, now) != nil {
		t.Fatal("another user's costly request refused")
	}
	if g.take(0, now) == nil {
		t.Fatal("a third costly request at once: every worker would be busy with them")
	}
	g.give(1000)
	g.give(1001)
	// user 1000 has spent one of its burst of 4: three more now, then it
	// waits for the rate
	for i := range 3 {
		if err := g.take(1000, now); err != nil {
			t.Fatalf("burst request %d: %v", i, err)
		}
		g.give(1000)
	}
	if g.take(1000, now) == nil {
		t.Fatal("past the burst, at once")
	}
	if err := g.take(1000, now.Add(time.Second)); err != nil {
		t.Fatalf("a second later (rate 2/s): %v", err)
	}
	g.give(1000)
	// root: no rate, no one-at-a-time, but the total
	for range 10 {
		if err := g.take(0, now); err != nil {
			t.Fatalf("root: %v", err)
		}
		g.give(0)
	}
	g.take(0, now)
	g.take(0, now)
	if g.take(0, now) == nil {
		t.Fatal("root took every worker")
	}
}
