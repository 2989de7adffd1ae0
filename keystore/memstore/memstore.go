// Package memstore is a [keystore.Store] in memory, for tests: it keeps
// the contract of package storetest (copies in and out, ordered scans of
// one consistent view, atomic batches) without a disk.
package memstore

import (
	"slices"
	"strings"
	"sync"

	"kmsd/keystore"
)

// Store is a keystore.Store held in a map.
type Store struct {
	mu     sync.RWMutex
	m      map[string][]byte
	closed bool
}

var _ keystore.Store = (*Store)(nil)

// New returns an empty store.
func New() *Store { return &Store{m: map[string][]byte{}} }

// Get returns a copy of key's value.
func (s *Store) Get(key []byte) ([]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, keystore.ErrClosed
	}
	v, ok := s.m[string(key)]
	if !ok {
		return nil, keystore.ErrNotFound
	}
	return slices.Clone(v), nil
}

// Scan walks the keys with prefix, in order, under the read lock: writes
// wait until it is done.
func (s *Store) Scan(prefix []byte, fn func(key, value []byte) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return keystore.ErrClosed
	}
	keys := make([]string, 0, len(s.m))
	for k := range s.m {
		if strings.HasPrefix(k, string(prefix)) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		if err := fn([]byte(k), slices.Clone(s.m[k])); err != nil {
			return err
		}
	}
	return nil
}

// Write applies the batch under the write lock.
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
	for _, c := range changes {
		if c.Delete {
			delete(s.m, string(c.Key))
		} else {
			s.m[string(c.Key)] = slices.Clone(c.Value)
		}
	}
	return nil
}

// Close makes every later call fail.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return nil
}
