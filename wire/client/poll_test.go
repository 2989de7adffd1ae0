package client

import "testing"

// TestLoneCaller: a connection polls for answers (lone) while it has had
// one call at a time, stops as soon as it has more in flight, and starts
// again only concurrentMemory answers after it last had more.
func TestLoneCaller(t *testing.T) {
	cc := &clientConn{pending: map[uint64]pendingReq{}}
	one := pendingReq{calls: []*call{{}}}
	id := uint64(0)
	send := func(p pendingReq) uint64 { id++; cc.addPending(id, p); return id }
	answer := func(id uint64) {
		if _, ok := cc.takePending(id); !ok {
			t.Fatalf("request %d not pending", id)
		}
	}
	if !cc.lone() {
		t.Fatal("a new connection is not lone")
	}
	a := send(one)
	if !cc.lone() {
		t.Fatal("one call in flight: not lone")
	}
	b := send(one)
	if cc.lone() {
		t.Fatal("two calls in flight: lone")
	}
	answer(a)
	answer(b)
	// concurrentMemory answers since two were in flight, a and b included.
	for n := 2; n < concurrentMemory; n++ {
		if cc.lone() {
			t.Fatalf("lone again after %d answers", n)
		}
		answer(send(one))
	}
	if !cc.lone() {
		t.Fatalf("not lone after %d answers of one call", concurrentMemory)
	}
	send(pendingReq{batch: &batchCall{n: 16}})
	if cc.lone() || cc.calls != 16 {
		t.Fatalf("a batch of 16 in flight: lone %v, %d calls counted", cc.lone(), cc.calls)
	}
	if _, ok := cc.takePending(999); ok || cc.calls != 16 {
		t.Fatal("an unknown id was taken")
	}
}
