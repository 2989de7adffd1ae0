package keystore

// NonceRun is a run of XAES-256-GCM counter values taken from one epoch
// of a Material at once, for the consecutive seals of one goroutine (a
// batch chunk's items under one key). Without it every seal adds one to
// the epoch's counter, a cache line that every core sealing under the key
// writes; with it a run of seals touches the counter once.
//
// A run's values were reserved by one atomic add, so they are unique in
// their epoch as single values are; a value reserved and not used is
// skipped, never reused. Runs start at one value and double as they are
// used up, to MaxNonceRun, so a sealer that seals once wastes nothing and
// one that seals many wastes less than half its last run. No derived key
// seals more than EpochMessages messages, as before.
//
// The zero NonceRun is empty. A NonceRun is not safe for concurrent use.
type NonceRun struct {
	m         *Material
	e         *epoch
	next, end uint64 // the values left: [next, end)
	size      uint64 // the last run's length
}

// MaxNonceRun bounds the values one run reserves.
const MaxNonceRun = 64

// take returns an epoch and a counter value unique within it: the run's
// next, or one of a fresh run of m's current epoch.
func (r *NonceRun) take(m *Material) (*epoch, uint64, error) {
	if r.m == m && r.next < r.end {
		n := r.next
		r.next++
		return r.e, n, nil
	}
	if r.m != m {
		*r = NonceRun{m: m}
	}
	r.size = min(max(1, 2*r.size), MaxNonceRun)
	for {
		if e := m.epoch.Load(); e != nil {
			if end := e.next.Add(r.size); end-r.size < EpochMessages {
				r.e, r.next, r.end = e, end-r.size+1, min(end, EpochMessages)
				return e, end - r.size, nil
			}
		}
		if err := m.newEpoch(); err != nil {
			return nil, 0, err
		}
	}
}
