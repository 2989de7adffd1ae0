package pipeline

import (
	"sync"
	"time"

	"kmsd/wire/api"
)

// Costly operations (api.OpSpec.Costly) take a management worker long.
// Queued behind each other they would starve every cheap management
// request (eight callers looping on GetParametersForImport made root's
// CreateKey take seconds), so the execute stage admits them per user:
// one in flight per uid, at costlyRate a second (bursts of costlyBurst),
// and never on every management worker at once; past that a costly
// request is answered ThrottlingException at once, which frees its
// worker for the next request. Root is held to the total only.
const (
	costlyRate       = 2.0
	costlyBurst      = 4.0
	maxCostlyTracked = 4096 // uids tracked at once; past it, all start afresh
)

type costlyGate struct {
	most int // costly requests in flight at once: the management workers but one

	mu       sync.Mutex
	inFlight int
	perUID   map[uint32]bool
	tokens   map[uint32]float64
	last     map[uint32]time.Time
}

func newCostlyGate(adminWorkers int) *costlyGate {
	return &costlyGate{most: max(1, adminWorkers-1), perUID: map[uint32]bool{}, tokens: map[uint32]float64{}, last: map[uint32]time.Time{}}
}

// take admits a costly request of uid now, or reports why not.
func (g *costlyGate) take(uid uint32, now time.Time) *api.Error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.inFlight >= g.most {
		return costlyThrottled("kmsd is busy with other costly requests")
	}
	if uid != 0 {
		if g.perUID[uid] {
			return costlyThrottled("one costly request of a user at a time")
		}
		if len(g.tokens) >= maxCostlyTracked {
			clear(g.tokens)
			clear(g.last)
		}
		t, ok := g.tokens[uid]
		if !ok {
			t = costlyBurst
		} else {
			t = min(costlyBurst, t+now.Sub(g.last[uid]).Seconds()*costlyRate)
		}
		g.last[uid] = now
		if t < 1 {
			g.tokens[uid] = t
			return costlyThrottled("the user's rate of costly requests is spent")
		}
		g.tokens[uid] = t - 1
		g.perUID[uid] = true
	}
	g.inFlight++
	return nil
}

// give ends a costly request take admitted.
func (g *costlyGate) give(uid uint32) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.inFlight--
	delete(g.perUID, uid)
}

func costlyThrottled(why string) *api.Error {
	return &api.Error{Code: api.CodeThrottling, Message: why + " (it makes a key pair): retry after a short wait"}
}
