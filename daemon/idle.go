package daemon

import (
	"runtime/debug"
	"time"
)

// idleTrimAfter is how long kmsd must have had no request before it
// returns the memory it freed to the operating system.
const idleTrimAfter = time.Second

// trimWhenIdle returns freed memory to the operating system when kmsd
// falls idle after work: after one tick of every with no request, then
// after 2, 4, ... 32 more idle ticks, as the store's own buffers are let
// go over its first seconds of quiet. Under load the Go runtime keeps its
// heap at about twice what is live (GOGC), which is the throughput's
// friend; idle, that memory is only RSS. A trim is one garbage collection
// (milliseconds with thousands of keys) at a moment nobody waits; a new
// request starts the series again. A tick comes every idleTrimAfter (or
// when a test sends one). It returns when stop is closed.
func (s *Server) trimWhenIdle(stop <-chan struct{}, ticks <-chan time.Time, trim func()) {
	if trim == nil {
		trim = debug.FreeOSMemory
	}
	last := s.activity()
	idle, next := 0, -1 // idle ticks so far; the idle tick of the next trim (-1: none due)
	for {
		select {
		case <-stop:
			return
		case <-ticks:
		}
		now := s.activity()
		if now != last {
			last, idle, next = now, 0, 1
			continue
		}
		idle++
		if idle == next {
			trim()
			next = idle + idle // 1, 2, 4, ... idle ticks after the last
			if next > 64 {
				next = -1
			}
		}
	}
}

// activity counts the requests served on every front end so far.
func (s *Server) activity() int64 {
	requests, _, _ := s.p.Stats()
	return requests + int64(s.fuseSessions.Load())
}
