package pipeline

import (
	"sync"

	"kmsd/wire/api"
)

// inflightUnit is what one unit of the in-flight budgets covers: a
// request takes a unit per started 16 KiB of its frame (or body), so
// MaxInFlight small requests, or a few large batches, are outstanding at
// once, and what is held is bounded in bytes, not only in count.
const inflightUnit = 16 << 10

// Units is the units a request of n bytes takes.
func Units(n int) int { return max(1, (n+inflightUnit-1)/inflightUnit) }

// Throttled is the answer to a request past a budget or a full queue.
func Throttled() *api.Error {
	return &api.Error{Code: api.CodeThrottling, Message: "kmsd's request queue is full; retry after a short wait"}
}

// TakeUnits takes u units for a request of uid from its share, waiting
// while the uid holds it (until quit, or Stopping: ok false), and from
// the server's (over says that passes MaxInFlightTotal: the request must
// be refused, ThrottlingException, rather than worked on; its units are
// given back with its answer either way).
func (p *Pipeline) TakeUnits(uid uint32, u int, quit <-chan struct{}) (over, ok bool) {
	if !p.shares.take(uid, u, quit, p.quit) {
		return false, false
	}
	return p.hold(u), true
}

// ForceUnits is TakeUnits without waiting for the uid's share: for a
// connection's first request (Hello), which must be answered for the
// connection to be of use at all (connections per uid are bounded).
func (p *Pipeline) ForceUnits(uid uint32, u int) (over bool) {
	p.shares.force(uid, u)
	return p.hold(u)
}

// GiveUnits gives back u units TakeUnits or ForceUnits took for uid.
func (p *Pipeline) GiveUnits(uid uint32, u int) {
	p.shares.give(uid, u)
	p.held.Add(int64(-u))
}

// Hold takes u units for a request of uid before its body is read
// (TakeUnits), for a front end whose call returns with its answer:
// release gives them back. ok is false if quit (or Stopping) came first.
func (p *Pipeline) Hold(uid uint32, u int, quit <-chan struct{}) (over bool, release func(), ok bool) {
	if over, ok = p.TakeUnits(uid, u, quit); !ok {
		return false, nil, false
	}
	return over, func() { p.GiveUnits(uid, u) }, true
}

// hold counts u more units in flight and reports whether that passes
// MaxInFlightTotal.
func (p *Pipeline) hold(u int) (over bool) {
	v := p.held.Add(int64(u))
	for pk := p.heldPeak.Load(); v > pk && !p.heldPeak.CompareAndSwap(pk, v); pk = p.heldPeak.Load() {
	}
	return v > int64(p.cfg.MaxInFlightTotal)
}

// Held is the units held in flight now and at the peak.
func (p *Pipeline) Held() (now, peak int64) { return p.held.Load(), p.heldPeak.Load() }

// HeldBy is what uid holds of the in-flight budget now.
func (p *Pipeline) HeldBy(uid uint32) int { return p.shares.heldBy(uid) }

// The in-flight budget: what requests read and not yet answered may hold,
// in units of 16 KiB of their frames (see units). A request takes its
// units before its body is read, from three budgets in turn:
//
//   - its connection's (Config.MaxInFlight): a connection whose client
//     does not read its answers stops being read;
//   - its uid's share (Config.MaxInFlightPerUID): the connections of one
//     user wait while that user holds its share, so that no user can take
//     the server's whole budget from the others;
//   - the server's (Config.MaxInFlightTotal): past it a request is
//     answered ThrottlingException at once, its body read past and not
//     kept.
//
// The units come back when the answer has left (the socket's
// conn.flushed), or when the request ends unread (conn.unhold), or, for
// the other front ends, when their call returns (Hold): every path gives
// them back through GiveUnits, and takes them through TakeUnits (or
// ForceUnits).

// shares is the uids' shares of the server's budget.
type shares struct {
	most int // units one uid may hold (one request more, if it holds none)

	mu      sync.Mutex
	held    map[uint32]int
	waiting int           // takers waiting for units to come back
	changed chan struct{} // closed when units come back while some wait
}

func newShares(most int) *shares {
	return &shares{most: most, held: map[uint32]int{}, changed: make(chan struct{})}
}

// take takes u units for uid, waiting while the uid holds its share
// (a uid that holds nothing may take any amount); it reports false if
// quit or stop is closed first.
func (s *shares) take(uid uint32, u int, quit, stop <-chan struct{}) bool {
	s.mu.Lock()
	for {
		if h := s.held[uid]; h == 0 || h+u <= s.most {
			s.held[uid] = h + u
			s.mu.Unlock()
			return true
		}
		s.waiting++
		ch := s.changed
		s.mu.Unlock()
		select {
		case <-ch:
		case <-quit:
			s.mu.Lock()
			s.waiting--
			s.mu.Unlock()
			return false
		case <-stop:
			s.mu.Lock()
			s.waiting--
			s.mu.Unlock()
			return false
		}
		s.mu.Lock()
		s.waiting--
	}
}

// force takes u units for uid without waiting: for a connection's first
// request (Hello), which must be answered for the connection to be of use
// at all; connections per uid are bounded, so that is too.
func (s *shares) force(uid uint32, u int) {
	s.mu.Lock()
	s.held[uid] += u
	s.mu.Unlock()
}

// give gives back u units of uid's and wakes whoever waits.
func (s *shares) give(uid uint32, u int) {
	s.mu.Lock()
	if s.held[uid] -= u; s.held[uid] <= 0 {
		delete(s.held, uid)
	}
	if s.waiting > 0 {
		close(s.changed)
		s.changed = make(chan struct{})
	}
	s.mu.Unlock()
}

// heldBy is what uid holds now.
func (s *shares) heldBy(uid uint32) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.held[uid]
}
