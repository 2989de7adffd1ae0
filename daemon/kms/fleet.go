package kms

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"kmsd/keystore"
	"kmsd/wire/api"
)

// Fleet makes the service one host of a fleet whose hosts share one
// Store (etcdstore): each serves from its own copy of the records, kept
// current by the store's watch, and changes them only by conditional
// batches, so that two hosts never both change what they read
// (docs/fleet.md).
type Fleet struct {
	// Host names this host in logs and the audit trail.
	Host string
	// MaxStaleness is how long crypto goes on from the copy while the
	// store cannot confirm it is current; 0 is DefaultMaxStaleness.
	MaxStaleness time.Duration
	// Leading, if set, says whether this host runs the scheduled work
	// (deletions, rotations, expiry) now; nil runs it always.
	Leading func() bool
	// Heartbeat is how often the host asks the store how far it is; 0 is
	// 250 ms.
	Heartbeat time.Duration
}

// DefaultMaxStaleness is how long a fleet host serves crypto from a copy
// the store has not confirmed.
const DefaultMaxStaleness = 5 * time.Minute

// ErrStale is what a change fails with when another host changed a
// record it read first: the caller lets the copy catch up (CatchUp) and
// runs the operation again, which then answers from what the other host
// did (AlreadyExistsException, say).
var ErrStale = errors.New("a record changed on another host since this host read it")

// staleError is ErrStale for op, and the wire error it is if the retries
// run out.
type staleError struct{ op string }

func (e *staleError) Error() string        { return e.op + ": " + ErrStale.Error() }
func (e *staleError) Is(target error) bool { return target == ErrStale }
func (e *staleError) Unwrap() error {
	return errorf(api.CodeInternal, "%s conflicted with changes made on other hosts of the fleet at the same time; try again", e.op)
}

// follower is a fleet host's side of the store: the revision of every
// record it holds, how far it has followed the store, and how current
// that was when last confirmed.
type follower struct {
	cfg     Fleet
	revsMu  sync.Mutex
	revs    map[string]int64 // store key -> revision of what the tables hold
	applied atomic.Int64     // the store revision the tables reflect
	fresh   atomic.Int64     // unix nanos when the tables were last confirmed current
	reason  atomic.Pointer[string]
	stop    context.CancelFunc
	done    chan struct{}
}

// FleetStatus is how current a fleet host is.
type FleetStatus struct {
	Host         string
	Revision     int64         // the store revision this host has applied
	Staleness    time.Duration // since the store last confirmed this host current
	MaxStaleness time.Duration // the bound past which crypto is refused
	Leading      bool          // whether this host runs the scheduled work
	Error        string        // why the store cannot be reached, if it cannot
}

// FleetStatus says how current this host is; ok is false outside a
// fleet.
func (s *Service) FleetStatus() (FleetStatus, bool) {
	f := s.fleet
	if f == nil {
		return FleetStatus{}, false
	}
	st := FleetStatus{Host: f.cfg.Host, Revision: f.applied.Load(), Staleness: s.staleness(), MaxStaleness: f.cfg.MaxStaleness,
		Leading: f.cfg.Leading == nil || f.cfg.Leading()}
	if r := f.reason.Load(); r != nil {
		st.Error = *r
	}
	return st, true
}

func (s *Service) staleness() time.Duration {
	return time.Since(time.Unix(0, s.fleet.fresh.Load()))
}

// checkFresh refuses crypto on a fleet host whose copy has gone
// unconfirmed for longer than MaxStaleness.
func (s *Service) checkFresh() error {
	f := s.fleet
	if f == nil {
		return nil
	}
	if d := s.staleness(); d > f.cfg.MaxStaleness {
		why := "the fleet's store has not confirmed it"
		if r := f.reason.Load(); r != nil {
			why = *r
		}
		return errorf(api.CodeDependencyTimeout, "this host's copy of the keys is %s old, past the fleet's bound of %s (%s): kmsd refuses to use it until the store is reachable again",
			d.Truncate(time.Millisecond), f.cfg.MaxStaleness, why)
	}
	return nil
}

// guard makes b conditional on every record it changes being what the
// tables hold; it refuses at once while the store is unreachable.
func (s *Service) guard(op string, b *keystore.Batch) error {
	f := s.fleet
	if r := f.reason.Load(); r != nil {
		return errorf(api.CodeDependencyTimeout, "%s was refused: the fleet's store is unavailable (%s); keys that were Enabled still serve crypto for up to %s", op, *r, f.cfg.MaxStaleness)
	}
	if d := s.staleness(); d > f.quiet() {
		return errorf(api.CodeDependencyTimeout, "%s was refused: the fleet's store has not answered for %s; keys that were Enabled still serve crypto for up to %s", op, d.Truncate(time.Millisecond), f.cfg.MaxStaleness)
	}
	changes, _ := b.Changes()
	for _, c := range changes {
		b.Expect(c.Key, f.rev(string(c.Key)))
	}
	return nil
}

// MetaRevision is the revision of the shared metadata value name that
// this host holds: it changes when any host of the fleet writes it, and
// stays 0 outside a fleet (where only this process writes it).
func (s *Service) MetaRevision(name string) int64 {
	if s.fleet == nil {
		return 0
	}
	return s.fleet.rev(string(keystore.MetaKey(name)))
}

// PutMeta writes a metadata value as the service writes its own records:
// on a fleet host, on the condition that the value is still the one the
// caller read, at revision read (MetaRevision when it read it), in the
// store (ErrStale otherwise). The revision is the caller's, not the
// copy's: this host's watch may have applied another host's change to
// the value after the caller read it, and a write conditional on that
// newer revision would pass with the caller's older content, losing the
// other host's change.
func (s *Service) PutMeta(op, name string, v []byte, read int64) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	// The watch applies changes under writeMu, so the revision checked
	// here is the one guard makes the write conditional on.
	if s.fleet != nil && s.MetaRevision(name) != read {
		return &staleError{op: op}
	}
	var b keystore.Batch
	b.PutMeta(name, v)
	return s.write(op, &b)
}

// fence makes a fleet host's b conflict with every other host's write
// that counts against the same quota (name): such writes then happen
// one after another, each host counting after the other's, so that a
// quota holds fleet-wide. Outside a fleet it does nothing.
func (s *Service) fence(b *keystore.Batch, name string) {
	if f := s.fleet; f != nil {
		b.PutMeta("fence-"+name, []byte(f.cfg.Host))
	}
}

// quiet is how long the heartbeat may go unanswered before changes are
// refused without waiting for the store: four heartbeats and a second.
func (f *follower) quiet() time.Duration { return 4*f.cfg.Heartbeat + time.Second }

// rev is the revision of the store key k the tables hold (0: none).
func (f *follower) rev(k string) int64 {
	f.revsMu.Lock()
	defer f.revsMu.Unlock()
	return f.revs[k]
}

func (f *follower) setRev(k string, rev int64, deleted bool) {
	f.revsMu.Lock()
	defer f.revsMu.Unlock()
	if deleted {
		delete(f.revs, k)
	} else {
		f.revs[k] = rev
	}
}

// committed notes the revisions of a batch this host wrote.
func (s *Service) committed(b *keystore.Batch) {
	changes, _ := b.Changes()
	for _, c := range changes {
		s.fleet.setRev(string(c.Key), b.Revision(), c.Delete)
	}
}

// startFleet follows the store from revision rev, and confirms the
// copy's currency every Heartbeat.
func (s *Service) startFleet(rev int64) {
	f := s.fleet
	f.applied.Store(rev)
	f.fresh.Store(time.Now().UnixNano())
	ctx, cancel := context.WithCancel(context.Background())
	f.stop, f.done = cancel, make(chan struct{})
	followed := make(chan struct{})
	go func() {
		defer close(followed)
		s.follow(ctx)
	}()
	go func() {
		defer close(f.done)
		s.heartbeat(ctx)
		<-followed
	}()
}

func (s *Service) stopFleet() {
	if f := s.fleet; f != nil && f.stop != nil {
		f.stop()
		<-f.done
	}
}

// follow applies the store's changes as its watch passes them, from the
// revision the tables reflect; after a compaction it reads the store
// again.
func (s *Service) follow(ctx context.Context) {
	f := s.fleet
	for ctx.Err() == nil {
		err := s.store.Watch(ctx, f.applied.Load(), func(ev keystore.Event) error {
			s.writeMu.Lock()
			defer s.writeMu.Unlock()
			return s.apply(ev, false)
		})
		switch {
		case ctx.Err() != nil || errors.Is(err, keystore.ErrClosed):
			return
		case errors.Is(err, keystore.ErrCompacted):
			s.log.Warn("the fleet's watch fell behind the store's compaction; reading every record again", "err", err)
			if err := s.reload(); err != nil {
				s.log.Error("reading the fleet's store again failed; will retry", "err", err)
				sleepCtx(ctx, time.Second)
			}
		default:
			s.log.Warn("the fleet's watch ended; following again", "err", err, "revision", f.applied.Load())
			sleepCtx(ctx, 200*time.Millisecond)
		}
	}
}

// heartbeat asks the store its revision and, once the tables reflect
// it, marks them current as of the question; a store that does not
// answer makes management fail at once and starts the staleness clock.
func (s *Service) heartbeat(ctx context.Context) {
	f := s.fleet
	t := time.NewTicker(f.cfg.Heartbeat)
	defer t.Stop()
	down := false
	for {
		asked := time.Now()
		rev, err := s.store.ScanRev([]byte{0xff}, func([]byte, []byte, int64) error { return nil })
		if err == nil {
			for f.applied.Load() < rev && time.Since(asked) < f.cfg.Heartbeat*4 && ctx.Err() == nil {
				sleepCtx(ctx, 5*time.Millisecond)
			}
			if f.applied.Load() < rev {
				err = fmt.Errorf("this host has applied revision %d of the store's %d", f.applied.Load(), rev)
			}
		}
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			msg := err.Error()
			f.reason.Store(&msg)
			if !down {
				s.log.Warn("the fleet's store is unavailable: changes are refused, crypto goes on from this host's copy", "err", err, "max_staleness", f.cfg.MaxStaleness)
				down = true
			}
		default:
			f.fresh.Store(asked.UnixNano())
			f.reason.Store(nil)
			if down {
				s.log.Info("the fleet's store is reachable again; this host has caught up", "revision", f.applied.Load())
				s.event("Fleet", "", fmt.Sprintf("caught up with the fleet's store at revision %d", f.applied.Load()))
				down = false
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// CatchUp waits until this host's copy reflects every change the store
// had when it was called (at most 2 s): what a change that met ErrStale
// does before it runs again. Outside a fleet it returns at once.
func (s *Service) CatchUp(ctx context.Context) error {
	f := s.fleet
	if f == nil {
		return nil
	}
	rev, err := s.store.ScanRev([]byte{0xff}, func([]byte, []byte, int64) error { return nil })
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	for f.applied.Load() < rev {
		if ctx.Err() != nil {
			return fmt.Errorf("this host has applied revision %d of the store's %d", f.applied.Load(), rev)
		}
		sleepCtx(ctx, 2*time.Millisecond)
	}
	return nil
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
