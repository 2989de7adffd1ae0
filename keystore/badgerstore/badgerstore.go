// Package badgerstore is the [keystore.Store] kmsd runs on: Badger v4 in
// one directory, with synchronous writes and options sized for a small
// daemon (a 4 MiB memtable, one of them, small caches; see
// docs/storage-format.md). Values are copied out of Badger's transactions;
// Badger's errors become the keystore's sentinels at this boundary.
//
// A directory is open in one process at a time: Open takes an exclusive
// lock on a file of its own in the directory before Badger does, and a
// second Open, in this process or another, fails with keystore.ErrLocked.
//
// A full file system must not crash kmsd: Badger writes through memory
// maps of files it makes sparse, and a write to one that finds no block
// is a SIGBUS, not an error. So the store keeps MinFree bytes free (room
// for a memtable, its flush and a compaction): below it, Write fails with
// keystore.ErrNoSpace before Badger is asked to write (kmsd then serves
// every read and every crypto operation, and refuses changes until there
// is room). Below criticalFree, too little for even the small writes of
// opening and closing (a memtable's flush, its log's repair), Open opens
// the store read-only, and Close leaves the memtable in its log, to be
// replayed at the next start, rather than flush it.
package badgerstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/dgraph-io/badger/v4"
	"golang.org/x/sys/unix"

	"kmsd/keystore"
)

// Options configures Open.
type Options struct {
	// Dir is the Badger directory. It is created 0700 if missing.
	Dir string
	// NoSync turns off synchronous writes. Only tests and bulk loads that
	// accept losing acknowledged writes on a crash may set it.
	NoSync bool
	// Logger receives Badger's warnings and errors; nil discards them.
	Logger *slog.Logger
	// MinFree is the room the store keeps free on its file system;
	// default 64 MiB.
	MinFree int64
}

// DefaultMinFree is Options.MinFree's default: four memtables' worth and
// the SSTs a flush and a compaction write.
const DefaultMinFree = 64 << 20

// criticalFree is the room under which the store is not even opened for
// writing, nor flushed at Close: a memtable log's size (twice
// MemTableSize) and some.
const criticalFree = 12 << 20

// Store is a keystore.Store in a Badger directory.
type Store struct {
	db       *badger.DB
	writeMu  sync.Mutex // one Write at a time: its revision is the store's next
	feed     *keystore.Feed
	lock     *os.File
	dir      string
	minFree  int64
	readOnly bool
}

var _ keystore.Store = (*Store)(nil)

// lockName is the file Open locks, beside Badger's own LOCK.
const lockName = "kmsd.lock"

// Open opens or creates the store in opts.Dir.
func Open(opts Options) (*Store, error) {
	if err := os.MkdirAll(opts.Dir, 0o700); err != nil {
		return nil, err
	}
	lock, err := os.OpenFile(filepath.Join(opts.Dir, lockName), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		lock.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w: %s (another process holds its lock)", keystore.ErrLocked, opts.Dir)
		}
		return nil, fmt.Errorf("lock %s: %w", opts.Dir, err)
	}
	if opts.MinFree <= 0 {
		opts.MinFree = DefaultMinFree
	}
	s := &Store{lock: lock, dir: opts.Dir, minFree: opts.MinFree}
	bo := options(opts)
	if free, err := FreeSpace(opts.Dir); err == nil && free < opts.MinFree && opts.Logger != nil {
		opts.Logger.Error("the state directory's file system is nearly full: keys serve, changes are refused until there is room",
			"dir", opts.Dir, "free", free, "needed", opts.MinFree)
	}
	if free, err := FreeSpace(opts.Dir); err == nil && free < criticalFree {
		s.readOnly = true
		bo = bo.WithReadOnly(true)
	}
	db, err := badger.Open(bo)
	if err != nil {
		lock.Close()
		return nil, fmt.Errorf("open store %s: %w", filepath.Clean(opts.Dir), err)
	}
	s.db = db
	s.feed = keystore.NewFeed(s.revision(), feedKeep)
	return s, nil
}

// feedKeep is how many batches Watch can replay: this process's own
// writes since it opened the store, the latest ones.
const feedKeep = 1024

// revision is the commit timestamp of the newest batch: Badger's version
// of every record it wrote, which is the keystore's revision here.
func (s *Store) revision() int64 {
	txn := s.db.NewTransaction(false)
	defer txn.Discard()
	return int64(txn.ReadTs())
}

// FreeSpace is the room left on dir's file system for an unprivileged
// writer.
func FreeSpace(dir string) (int64, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return int64(st.Bavail) * st.Bsize, nil
}

// room reports keystore.ErrNoSpace if a write now could find the file
// system full.
func (s *Store) room() error {
	if s.readOnly {
		return fmt.Errorf("%w: the store was opened read-only for want of room; restart kmsd once there is room", keystore.ErrNoSpace)
	}
	free, err := FreeSpace(s.dir)
	if err != nil {
		return err
	}
	if free < s.minFree {
		return fmt.Errorf("%w: %d MiB free, %d MiB needed", keystore.ErrNoSpace, free>>20, s.minFree>>20)
	}
	return nil
}

// options are Badger's, sized for thousands of small records (the
// measurements behind them are in docs/storage-format.md).
func options(o Options) badger.Options {
	return badger.DefaultOptions(o.Dir).
		WithLogger(logger{l: o.Logger}).
		WithSyncWrites(!o.NoSync).
		WithMemTableSize(4 << 20).
		WithValueThreshold(64 << 10). // must be at most 15% of the memtable
		WithNumMemtables(1).
		WithNumLevelZeroTables(2).
		WithNumLevelZeroTablesStall(8).
		WithBaseTableSize(1 << 20).
		WithBaseLevelSize(4 << 20).
		WithValueLogFileSize(16 << 20).
		WithNumCompactors(2). // 1 is refused, 0 stops compaction
		WithBlockCacheSize(1 << 20).
		WithIndexCacheSize(0).
		WithMetricsEnabled(false).
		WithNumGoroutines(1)
}

// Get returns a copy of key's value.
func (s *Store) Get(key []byte) ([]byte, error) {
	var v []byte
	err := s.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(key)
		if err != nil {
			return err
		}
		v, err = item.ValueCopy(nil)
		return err
	})
	return v, translate(err)
}

// Scan walks the keys with prefix in one read transaction.
func (s *Store) Scan(prefix []byte, fn func(key, value []byte) error) error {
	_, err := s.ScanRev(prefix, func(k, v []byte, _ int64) error { return fn(k, v) })
	return err
}

// ScanRev is Scan with each record's version, and the read
// transaction's timestamp as the view's revision.
func (s *Store) ScanRev(prefix []byte, fn func(key, value []byte, rev int64) error) (int64, error) {
	var rev int64
	err := s.db.View(func(txn *badger.Txn) error {
		rev = int64(txn.ReadTs())
		opts := badger.DefaultIteratorOptions
		opts.Prefix = prefix
		it := txn.NewIterator(opts)
		defer it.Close()
		for it.Seek(prefix); it.ValidForPrefix(prefix); it.Next() {
			item := it.Item()
			err := item.Value(func(v []byte) error { return fn(item.Key(), v, int64(item.Version())) })
			if err != nil {
				return err
			}
		}
		return nil
	})
	return rev, translate(err)
}

// Watch follows the batches this process writes after revision after
// (keystore.Feed: no other process writes a locked directory).
func (s *Store) Watch(ctx context.Context, after int64, fn func(keystore.Event) error) error {
	return s.feed.Watch(ctx, after, fn)
}

// MaxBatch is the most one Write takes: Badger's limits on one
// transaction, which follow its memtable's size (keystore.BatchLimiter).
func (s *Store) MaxBatch() (count int, bytes int64) {
	return int(s.db.MaxBatchCount()), s.db.MaxBatchSize()
}

// Write applies the batch in one transaction.
func (s *Store) Write(b *keystore.Batch) error {
	changes, err := b.Changes()
	if err != nil {
		return err
	}
	if err := s.room(); err != nil {
		return err
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	err = translate(s.db.Update(func(txn *badger.Txn) error {
		for _, c := range b.Conditions() {
			var rev int64
			item, err := txn.Get(c.Key)
			switch {
			case err == nil:
				rev = int64(item.Version())
			case !errors.Is(err, badger.ErrKeyNotFound):
				return err
			}
			if rev != c.Revision {
				return fmt.Errorf("%w: %q is at revision %d, not %d", keystore.ErrConflict, c.Key, rev, c.Revision)
			}
		}
		for _, c := range changes {
			var err error
			if c.Delete {
				err = txn.Delete(c.Key)
			} else {
				err = txn.Set(c.Key, c.Value)
			}
			if err != nil {
				return err
			}
		}
		return nil
	}))
	if err != nil {
		return err
	}
	rev := s.revision()
	ev := keystore.Event{Revision: rev, Changes: make([]keystore.Change, len(changes))}
	for i, c := range changes {
		ev.Changes[i] = keystore.Change{Key: slices.Clone(c.Key), Value: slices.Clone(c.Value), Delete: c.Delete}
	}
	if len(changes) > 0 {
		s.feed.Publish(ev)
	}
	b.Committed(rev)
	return nil
}

// Close flushes and closes Badger, then releases the lock. With too
// little room to flush, it leaves Badger unclosed: what was written is in
// its log, synced, and is replayed at the next start.
func (s *Store) Close() error {
	s.feed.Close()
	var err error
	if free, ferr := FreeSpace(s.dir); s.readOnly || ferr != nil || free >= criticalFree {
		err = s.db.Close()
	}
	if lerr := s.lock.Close(); err == nil {
		err = lerr
	}
	return err
}

// translate maps Badger's errors to the keystore's.
func translate(err error) error {
	switch {
	case errors.Is(err, badger.ErrKeyNotFound):
		return keystore.ErrNotFound
	case errors.Is(err, badger.ErrDBClosed):
		return keystore.ErrClosed
	}
	return err
}

// logger passes Badger's warnings and errors to slog and drops the rest.
// Badger logs paths and sizes, never values.
type logger struct{ l *slog.Logger }

func (b logger) Errorf(f string, a ...any) {
	if b.l != nil {
		b.l.Error("badger: " + strings.TrimSpace(fmt.Sprintf(f, a...)))
	}
}

func (b logger) Warningf(f string, a ...any) {
	if b.l != nil {
		b.l.Warn("badger: " + strings.TrimSpace(fmt.Sprintf(f, a...)))
	}
}

func (logger) Infof(string, ...any)  {}
func (logger) Debugf(string, ...any) {}
