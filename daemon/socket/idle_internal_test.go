package socket

import "testing"

// TestIdlePollsAfterSmallRequests: the reader polls for the next request
// only with nothing in flight and after a request of at most
// pollAfterMost items (a single, or coalesced callers' frame), not after
// a large explicit batch, whose client is busy with its answers.
func TestIdlePollsAfterSmallRequests(t *testing.T) {
	for _, tc := range []struct {
		busy, last int
		poll       bool
	}{
		{busy: 0, last: 1, poll: true},
		{busy: 0, last: pollAfterMost, poll: true},
		{busy: 0, last: pollAfterMost + 1, poll: false},
		{busy: 0, last: 4096, poll: false},
		{busy: 1, last: 1, poll: false},
	} {
		c := &conn{lastItems: tc.last}
		c.busy.Store(int32(tc.busy))
		if got := c.idle(); got != tc.poll {
			t.Errorf("%d in flight, last of %d items: poll %v, want %v", tc.busy, tc.last, got, tc.poll)
		}
	}
}
