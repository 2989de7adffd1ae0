package keystore

import (
	"context"
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
	// the store was opened not to sync) before it returns. If one of b's
	// conditions (Batch.Expect) does not hold, nothing is written and the
	// error wraps ErrConflict. On success b.Revision is the revision the
	// batch was committed at.
	Write(b *Batch) error
	// ScanRev is Scan that also passes each record's revision (that of
	// the batch that last wrote it) and returns the revision of the view
	// it read: every batch up to it, none after.
	ScanRev(prefix []byte, fn func(key, value []byte, rev int64) error) (int64, error)
	// Watch calls fn with each batch committed after revision after, in
	// commit order and without gaps, until ctx ends (it returns ctx's
	// error), fn fails (its error) or the store closes (ErrClosed). If a
	// batch after that revision is no longer kept, it returns an error
	// wrapping ErrCompacted at once: the caller reads the store again
	// (ScanRev) and watches from there.
	Watch(ctx context.Context, after int64, fn func(Event) error) error
	// Close releases the store; calls after it fail.
	Close() error
}

// ErrNotFound is what Get wraps for a key that is not in the store.
var ErrNotFound = errors.New("not in the store")

// ErrLocked means another process has the store open.
var ErrLocked = errors.New("state directory is in use by another kmsd")

// ErrConflict is what Write wraps when a condition of the batch
// (Batch.Expect) did not hold: another writer changed a record first.
var ErrConflict = errors.New("a record changed since it was read")

// ErrCompacted is what Watch wraps when the changes asked for are older
// than the store keeps.
var ErrCompacted = errors.New("the changes asked for are no longer kept")

// ErrUnavailable is what a shared store (etcdstore) wraps when it cannot
// be reached or has no quorum: nothing was written, and the caller may
// try again later.
var ErrUnavailable = errors.New("the shared store is unavailable")

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

// Event is one committed batch, as Watch passes it: its revision and
// its changes, in the batch's order.
type Event struct {
	Revision int64
	Changes  []Change
}

// Condition is one condition of a Batch: Key's record was last written
// at Revision, or, if Revision is 0, Key has no record.
type Condition struct {
	Key      []byte
	Revision int64
}

// Batch is a set of changes that a Store writes at once, if its
// conditions hold. The typed methods (PutKey, DeleteAlias, ...) encode
// records in this package's layout; an encoding failure makes the whole
// batch fail at Write.
type Batch struct {
	changes []Change
	conds   []Condition
	err     error
	rev     int64
}

// Expect makes the batch conditional: Write applies it only if key's
// record was last written at revision rev (0: key has no record), and
// fails with ErrConflict otherwise.
func (b *Batch) Expect(key []byte, rev int64) {
	b.conds = append(b.conds, Condition{Key: key, Revision: rev})
}

// Conditions returns the batch's conditions (Expect), in order.
func (b *Batch) Conditions() []Condition { return b.conds }

// Len is the number of changes in the batch.
func (b *Batch) Len() int { return len(b.changes) }

// Revision is the revision a Store committed the batch at (0 before).
func (b *Batch) Revision() int64 { return b.rev }

// Committed records the revision the batch was committed at: what a
// Store implementation calls when Write succeeds.
func (b *Batch) Committed(rev int64) { b.rev = rev }

// Put stores value under key.
func (b *Batch) Put(key, value []byte) {
	b.changes = append(b.changes, Change{Key: key, Value: value})
}

// Delete removes key.
func (b *Batch) Delete(key []byte) { b.changes = append(b.changes, Change{Key: key, Delete: true}) }

// Changes returns the batch's changes in order, or the error that spoils
// it: what a Store implementation applies.
func (b *Batch) Changes() ([]Change, error) { return b.changes, b.err }
