package pipeline

import (
	"sync"
	"time"

	"kmsd/daemon/audit"
)

// What failed requests may cost the trail. Any user can make requests
// fail as fast as kmsd answers, and every failure is a record: a user
// could fill the disk with them. So each uid (root excepted) has a budget
// of failure records, failureRate a second with bursts of failureBurst;
// past it, its failures are not recorded one by one but counted, by
// operation and exception, and written every second as summary records:
// group records (items, error) with request_id "summary". Every failed
// call is still in the trail, and counted by usage; only its details
// (key, context, request id) are left out. A summary is written after the
// answers it counts have left, so a crash can lose up to a second of such
// counts (never a success, never a failure within the budget).
const (
	failureRate  = 100 // records a second
	failureBurst = 1000
	maxTracked   = 4096 // uids tracked at once; past it, all start afresh
)

type failureBudget struct {
	mu      sync.Mutex
	tokens  map[uint32]float64
	last    map[uint32]time.Time
	pending map[summaryKey]*audit.Event
}

type summaryKey struct {
	uid       uint32
	op, code  string
	principal string
	unit, exe string
	source    string
	gid       uint32
}

func newFailureBudget() *failureBudget {
	return &failureBudget{tokens: map[uint32]float64{}, last: map[uint32]time.Time{}, pending: map[summaryKey]*audit.Event{}}
}

// admit returns the events to record now: all but the failures of uids
// past their budget, which it counts for the next summary. evs is
// filtered in place.
func (b *failureBudget) admit(evs []*audit.Event, now time.Time) []*audit.Event {
	out := evs[:0]
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, ev := range evs {
		uid := ev.Caller.UID
		if ev.Error == "" || ev.Type != audit.TypeCall || uid == 0 || b.take(uid, now) {
			out = append(out, ev)
			continue
		}
		k := summaryKey{uid: uid, op: ev.Name, code: ev.Error, principal: ev.Caller.Principal, unit: ev.Caller.Unit,
			exe: ev.Caller.Exe, source: ev.Caller.Source, gid: ev.Caller.GID}
		s := b.pending[k]
		if s == nil {
			s = &audit.Event{Type: audit.TypeCall, Name: ev.Name, RequestID: "summary", Error: ev.Error,
				Caller: audit.Caller{UID: uid, GID: k.gid, Exe: k.exe, Unit: k.unit, Source: k.source, Principal: k.principal}}
			b.pending[k] = s
		}
		s.Count += ev.Items()
		s.InBytes += ev.InBytes
	}
	clear(evs[len(out):])
	return out
}

// take spends one record of uid's budget, if it has one.
func (b *failureBudget) take(uid uint32, now time.Time) bool {
	if len(b.tokens) >= maxTracked {
		clear(b.tokens)
		clear(b.last)
	}
	t, ok := b.tokens[uid]
	if !ok {
		t = failureBurst
	} else {
		t = min(failureBurst, t+now.Sub(b.last[uid]).Seconds()*failureRate)
	}
	b.last[uid] = now
	if t < 1 {
		b.tokens[uid] = t
		return false
	}
	b.tokens[uid] = t - 1
	return true
}

// summaries takes the counts since the last call, as records.
func (b *failureBudget) summaries(now time.Time) []*audit.Event {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []*audit.Event
	for k, ev := range b.pending {
		ev.Time = now
		out = append(out, ev)
		delete(b.pending, k)
	}
	return out
}

// writeSummaries writes the failure summaries every tick until done
// (Shutdown writes the last ones once every request is answered).
func (p *Pipeline) writeSummaries(done <-chan struct{}, tick <-chan time.Time) {
	for {
		select {
		case <-done:
			return
		case <-tick:
			p.flushSummaries()
		}
	}
}

func (p *Pipeline) flushSummaries() {
	if p.cfg.Audit == nil {
		return
	}
	if evs := p.failures.summaries(time.Now()); len(evs) > 0 {
		if err := p.cfg.Audit.Append(evs...); err != nil {
			p.log.Error("writing the summary of failed requests", "err", err)
		}
	}
}
