package keystore

import (
	"context"
	"fmt"
	"slices"
	"sync"
)

// Feed is the Watch of a store whose every write passes through one
// process (badgerstore holds a lock on its directory; memstore lives in
// memory): the store publishes each committed batch, and Feed keeps the
// latest ones for watchers that start behind. A watcher asking for
// batches older than those kept gets ErrCompacted, as from etcd.
//
// The zero Feed is not usable; NewFeed makes one.
type Feed struct {
	mu      sync.Mutex
	changed chan struct{} // closed and replaced at each Publish and at Close
	kept    []Event       // in revision order
	base    int64         // every batch after base is in kept
	keep    int
	closed  bool
}

// NewFeed returns a feed whose store is at revision rev, keeping the
// last keep batches (at least 1).
func NewFeed(rev int64, keep int) *Feed {
	return &Feed{changed: make(chan struct{}), base: rev, keep: max(keep, 1)}
}

// Publish records a committed batch. Revisions must grow.
func (f *Feed) Publish(ev Event) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return
	}
	if len(f.kept) == f.keep {
		f.base = f.kept[0].Revision
		f.kept = slices.Delete(f.kept, 0, 1)
	}
	f.kept = append(f.kept, ev)
	close(f.changed)
	f.changed = make(chan struct{})
}

// Close ends every Watch with ErrClosed.
func (f *Feed) Close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.closed {
		f.closed = true
		close(f.changed)
	}
}

// Watch implements Store.Watch over the feed.
func (f *Feed) Watch(ctx context.Context, after int64, fn func(Event) error) error {
	for {
		f.mu.Lock()
		if f.closed {
			f.mu.Unlock()
			return ErrClosed
		}
		if after < f.base {
			base := f.base
			f.mu.Unlock()
			return fmt.Errorf("%w: batches after revision %d were asked for, and only those after %d are kept", ErrCompacted, after, base)
		}
		i, _ := slices.BinarySearchFunc(f.kept, after+1, func(e Event, rev int64) int { return cmpRev(e.Revision, rev) })
		next := slices.Clone(f.kept[i:])
		wait := f.changed
		f.mu.Unlock()
		for _, ev := range next {
			if err := fn(ev); err != nil {
				return err
			}
			after = ev.Revision
		}
		if len(next) > 0 {
			continue
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-wait:
		}
	}
}

func cmpRev(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
