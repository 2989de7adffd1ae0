package kms

// A batch's items come in runs on one key. Read-locking the key's entry
// for each item's seal or open made every item write the lock's reader
// count, one cache line that all the workers sealing under that key
// shared: on two cores that line went back and forth once per item, and
// the cost grows with the cores. The groups of a batch chunk (one worker)
// keep the read lock instead across a run of up to holdRun items on one
// entry, so a run costs one lock.
//
// An RWMutex must not be read-locked twice by one goroutine: a writer
// waiting between the two (DisableKey, say) blocks the second for ever.
// So the groups hold at most one entry, and let it go before anything
// else of the chunk could lock an entry: before a sealer or opener is
// made (g.sealer, g.opener), before an item goes to the RSA paths (which
// lock the keys they use), and when the chunk ends (release). Writers
// wait at most one run.

// holdRun bounds the items sealed or opened under one hold, and so how
// long a writer of the key waits for it.
const holdRun = 64

// rlock read-locks e for one seal or open. Under groups, it keeps (or
// takes) the groups' hold on e and reports true: the caller must not
// unlock. Without groups (a sealer made alone) it locks e and reports
// false: the caller unlocks.
func (g *groups) rlock(e *entry) (held bool) {
	if g == nil {
		e.mu.RLock()
		return false
	}
	if g.held == e && g.run < holdRun {
		g.run++
		return true
	}
	g.unhold()
	e.mu.RLock()
	g.held, g.run = e, 1
	return true
}

// unhold lets go of the entry the groups hold, if any.
func (g *groups) unhold() {
	if g.held != nil {
		g.held.mu.RUnlock()
		g.held = nil
	}
}
