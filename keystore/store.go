package keystore

import (
	"errors"
)

// Store is where kmsd keeps its records: a small ordered key-value store
// whose batches are atomic and durable. The key service needs nothing
// more of it. Package badgerstore is the implementation kmsd runs on;
// package memstore keeps everything in memory, for tests; package
// storetest checks any implementation against this contract.
//
// Keys and values are opaque bytes here; the record layout over them
// (families, encodings, versions) is this package's (see [Load] and
// [Batch]).
type Store interface {
	// Get returns a copy of the value of key, or an error wrapping
	// ErrNotFound.
	Get(key []byte) ([]byte, error)
	// Scan calls fn with each key that begins with prefix and its value,
	// in ascending key order, from one consistent view of the store. fn
	// must not keep the slices. An error from fn stops the scan and is
	// returned.
	Scan(prefix []byte, fn func(key, value []byte) error) error
	// Write applies every change of b, or none of them, durably (unless
	// the store was opened not to sync) before it returns.
	Write(b *Batch) error
	// Close releases the store; calls after it fail.
	Close() error
}

// ErrNotFound is what Get wraps for a key that is not in the store.
var ErrNotFound = errors.New("not in the store")

// ErrLocked means another process has the store open.
var ErrLocked = errors.New("state directory is in use by another kmsd")

// ErrClosed is returned by a Store used after Close.
var ErrClosed = errors.New("the store is closed")

// ErrNoSpace is what Write wraps when the store's file system has too
// little room left to write safely: nothing was written, and reads go on.
var ErrNoSpace = errors.New("the state directory's file system is (nearly) full")

// Change is one change of a Batch: a put of Value under Key, or, if
// Delete is set, the removal of Key.
type Change struct {
	Key, Value []byte
	Delete     bool
}

// Batch is a set of changes that a Store writes at once. The typed
// methods (PutKey, DeleteAlias, ...) encode records in this package's
// layout; an encoding failure makes the whole batch fail at Write.
type Batch struct {
	changes []Change
	err     error
}

// Put stores value under key.
func (b *Batch) Put(key, value []byte) {
	b.changes = append(b.changes, Change{Key: key, Value: value})
}

// Delete removes key.
func (b *Batch) Delete(key []byte) { b.changes = append(b.changes, Change{Key: key, Delete: true}) }

// Changes returns the batch's changes in order, or the error that spoils
// it: what a Store implementation applies.
func (b *Batch) Changes() ([]Change, error) { return b.changes, b.err }
