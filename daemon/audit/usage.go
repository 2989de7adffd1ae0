package audit

import (
	"slices"
	"sync"
	"time"
)

// Usage is what the trail says about use: per key, its last successful
// use (AWS's GetKeyLastUsage), and request counts by key and principal
// per minute for the last hour.
type Usage struct {
	now    func() time.Time
	counts func(event string) bool // which call records count; nil: all
	keyUse func(event string) bool // which records are a use of their key (Last); nil: none
	since  time.Time
	mu     sync.Mutex
	last   map[string]LastUse
	mins   [60]minute
}

// LastUse is a key's last successful use.
type LastUse struct {
	Operation string
	Time      time.Time
	Seq       uint64 // the audit record
}

type minute struct {
	at     int64 // unix minute this slot counts
	counts map[countKey]*Count
}

type countKey struct{ key, principal string }

// Count is how many requests (and how many failed) one principal made on
// one key (empty for requests without a key).
type Count struct {
	KeyID     string
	Principal string
	Requests  int64
	Errors    int64
}

func newUsage(now func() time.Time, counts, keyUse func(string) bool) *Usage {
	return &Usage{now: now, counts: counts, keyUse: keyUse, since: now(), last: map[string]LastUse{}}
}

// Since is when tracking started (kmsd's start).
func (u *Usage) Since() time.Time { return u.since }

// noteAll counts a group of written records, under one lock.
func (u *Usage) noteAll(evs []*Event) {
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, e := range evs {
		u.note(e)
	}
}

// note counts one record, as many requests as it stands for. The caller
// holds u.mu.
func (u *Usage) note(e *Event) {
	if e.Type != TypeCall || (u.counts != nil && !u.counts(e.Name)) {
		return
	}
	principal := e.Caller.Principal
	m := e.Time.Unix() / 60
	if e.Error == "" && e.KeyID != "" && u.keyUse != nil && u.keyUse(e.Name) {
		u.last[e.KeyID] = LastUse{Operation: e.Name, Time: e.Time, Seq: e.Seq}
	}
	slot := &u.mins[m%60]
	if slot.at != m {
		slot.at, slot.counts = m, map[countKey]*Count{}
	}
	k := countKey{e.KeyID, principal}
	c := slot.counts[k]
	if c == nil {
		c = &Count{KeyID: e.KeyID, Principal: principal}
		slot.counts[k] = c
	}
	c.Requests += int64(e.Items())
	if e.Error != "" {
		c.Errors += int64(e.Items())
	}
}

// Last returns a key's last successful cryptographic use.
func (u *Usage) Last(keyID string) (LastUse, bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	l, ok := u.last[keyID]
	return l, ok
}

// Counts sums the counts of the last window (at most an hour), by key and
// principal, in key then principal order.
func (u *Usage) Counts(window time.Duration) []Count {
	now := u.now().Unix() / 60
	oldest := now - int64(window/time.Minute) + 1
	if window < time.Minute {
		oldest = now
	}
	sum := map[countKey]*Count{}
	u.mu.Lock()
	for i := range u.mins {
		s := &u.mins[i]
		if s.counts == nil || s.at < oldest || s.at > now {
			continue
		}
		for k, c := range s.counts {
			t := sum[k]
			if t == nil {
				t = &Count{KeyID: c.KeyID, Principal: c.Principal}
				sum[k] = t
			}
			t.Requests += c.Requests
			t.Errors += c.Errors
		}
	}
	u.mu.Unlock()
	out := make([]Count, 0, len(sum))
	for _, c := range sum {
		out = append(out, *c)
	}
	slices.SortFunc(out, func(a, b Count) int {
		if a.KeyID != b.KeyID {
			if a.KeyID < b.KeyID {
				return -1
			}
			return 1
		}
		if a.Principal < b.Principal {
			return -1
		}
		if a.Principal > b.Principal {
			return 1
		}
		return 0
	})
	return out
}
