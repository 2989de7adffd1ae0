// Package memstore is a [keystore.Store] in memory, for tests: it keeps
// the contract of package storetest (copies in and out, ordered scans of
// one consistent view, atomic conditional batches with revisions, and a
// watch of them) without a disk.
package memstore

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"kmsd/keystore"
)

// keep is how many batches Watch can replay.
const keep = 1024

// Store is a keystore.Store held in a map.
type Store struct {
	mu     sync.RWMutex
	m      map[string]record
	rev    int64
	feed   *keystore.Feed
	closed bool
}

type record struct {
	value []byte
	rev   int64
}

var _ keystore.Store = (*Store)(nil)

// New returns an empty store.
func New() *Store { return &Store{m: map[string]record{}, feed: keystore.NewFeed(0, keep)} }

// Get returns a copy of key's value.
func (s *Store) Get(key []byte) ([]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, keystore.ErrClosed
	}
	r, ok := s.m[string(key)]
	if !ok {
		return nil, keystore.ErrNotFound
	}
	return slices.Clone(r.value), nil
}

// Scan walks the keys with prefix, in order, under the read lock: writes
// wait until it is done.
func (s *Store) Scan(prefix []byte, fn func(key, value []byte) error) error {
	_, err := s.ScanRev(prefix, func(k, v []byte, _ int64) error { return fn(k, v) })
	return err
}

// ScanRev is Scan with each record's revision, and the store's.
func (s *Store) ScanRev(prefix []byte, fn func(key, value []byte, rev int64) error) (int64, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return 0, keystore.ErrClosed
	}
	keys := make([]string, 0, len(s.m))
	for k := range s.m {
		if strings.HasPrefix(k, string(prefix)) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		r := s.m[k]
		if err := fn([]byte(k), slices.Clone(r.value), r.rev); err != nil {
			return 0, err
		}
	}
	return s.rev, nil
}

// Write checks the batch's conditions and applies it under the write
// lock, at the next revision.
func (s *Store) Write(b *keystore.Batch) error {
	changes, err := b.Changes()
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return keystore.ErrClosed
	}
	for _, c := range b.Conditions() {
		if r := s.m[string(c.Key)]; r.rev != c.Revision {
			return fmt.Errorf("%w: %q is at revision %d, not %d", keystore.ErrConflict, c.Key, r.rev, c.Revision)
		}
	}
	s.rev++
	ev := keystore.Event{Revision: s.rev, Changes: make([]keystore.Change, len(changes))}
	for i, c := range changes {
		ev.Changes[i] = keystore.Change{Key: slices.Clone(c.Key), Value: slices.Clone(c.Value), Delete: c.Delete}
		if c.Delete {
			delete(s.m, string(c.Key))
		} else {
			s.m[string(c.Key)] = record{value: slices.Clone(c.Value), rev: s.rev}
		}
	}
	s.feed.Publish(ev)
	b.Committed(s.rev)
	return nil
}

// Watch follows the batches written after revision after.
func (s *Store) Watch(ctx context.Context, after int64, fn func(keystore.Event) error) error {
	return s.feed.Watch(ctx, after, func(ev keystore.Event) error {
		c := keystore.Event{Revision: ev.Revision, Changes: make([]keystore.Change, len(ev.Changes))}
		for i, ch := range ev.Changes {
			c.Changes[i] = keystore.Change{Key: slices.Clone(ch.Key), Value: slices.Clone(ch.Value), Delete: ch.Delete}
		}
		return fn(c)
	})
}

// Close makes every later call fail.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	s.feed.Close()
	return nil
}
