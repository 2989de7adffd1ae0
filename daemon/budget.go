package daemon

import "sync"

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
// The units come back when the answer has left (conn.flushed).

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
// quit is closed first.
func (s *shares) take(uid uint32, u int, quit <-chan struct{}) bool {
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
