package keystore

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/dgraph-io/badger/v4"
)

// Key layout in Badger. Each family is one byte followed by its identity.
const (
	prefixKey   = 'k' // 'k' | key id (16 bytes)       -> KeyRecord JSON
	prefixAlias = 'a' // 'a' | alias name             -> AliasRecord JSON
	prefixGrant = 'g' // 'g' | key id | grant id (hex) -> GrantRecord JSON
	prefixMeta  = 'm' // 'm' | name                   -> store metadata
)

var (
	metaFormat    = []byte("mformat")
	metaRootCheck = []byte("mroot-check")
)

// storeFormat is written once into a new store and checked on every open.
const storeFormat = "kmsd-store-1"

// ErrLocked means another process has the store open.
var ErrLocked = errors.New("state directory is in use by another kmsd")

// StoreOptions configures Open.
type StoreOptions struct {
	// Dir is the Badger directory. It is created 0700 if missing.
	Dir string
	// NoSync turns off synchronous writes. Only tests and bulk loads that
	// accept losing acknowledged writes on a crash may set it.
	NoSync bool
	// Logger receives Badger's warnings and errors; nil discards them.
	Logger *slog.Logger
}

// Store keeps key and alias records in Badger. Writes are synchronous and
// atomic per Batch. It is safe for concurrent use.
type Store struct {
	db *badger.DB
}

// OpenStore opens or creates the store in opts.Dir and checks that it was
// written under root key rk. A second open of the same directory, in this
// process or another, fails with ErrLocked.
func OpenStore(opts StoreOptions, rk *RootKey) (*Store, error) {
	if err := os.MkdirAll(opts.Dir, 0o700); err != nil {
		return nil, err
	}
	bo := badger.DefaultOptions(opts.Dir).
		WithLogger(badgerLogger{l: opts.Logger}).
		WithSyncWrites(!opts.NoSync).
		WithMemTableSize(4 << 20).
		WithValueThreshold(64 << 10).
		WithNumMemtables(1).
		WithNumLevelZeroTables(2).
		WithNumLevelZeroTablesStall(8).
		WithBaseTableSize(1 << 20).
		WithBaseLevelSize(4 << 20).
		WithValueLogFileSize(16 << 20).
		WithNumCompactors(2).
		WithBlockCacheSize(1 << 20).
		WithIndexCacheSize(0).
		WithMetricsEnabled(false).
		WithNumGoroutines(1)
	db, err := badger.Open(bo)
	if err != nil {
		if strings.Contains(err.Error(), "directory lock") {
			return nil, fmt.Errorf("%w: %s (another process holds its lock)", ErrLocked, opts.Dir)
		}
		return nil, fmt.Errorf("open store %s: %w", filepath.Clean(opts.Dir), err)
	}
	s := &Store{db: db}
	if err := s.init(rk); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// init writes the format and root-key check into a new store, or verifies
// them in an existing one.
func (s *Store) init(rk *RootKey) error {
	return s.db.Update(func(txn *badger.Txn) error {
		format, err := getCopy(txn, metaFormat)
		switch {
		case errors.Is(err, badger.ErrKeyNotFound):
			check, err := rk.checkValue()
			if err != nil {
				return err
			}
			if err := txn.Set(metaFormat, []byte(storeFormat)); err != nil {
				return err
			}
			return txn.Set(metaRootCheck, check)
		case err != nil:
			return err
		case string(format) != storeFormat:
			return fmt.Errorf("store format %q is not supported (this kmsd reads %q)", format, storeFormat)
		}
		check, err := getCopy(txn, metaRootCheck)
		if err != nil {
			return fmt.Errorf("store has no root key check: %w", err)
		}
		return rk.verifyCheckValue(check)
	})
}

func getCopy(txn *badger.Txn, key []byte) ([]byte, error) {
	item, err := txn.Get(key)
	if err != nil {
		return nil, err
	}
	return item.ValueCopy(nil)
}

// Close flushes and closes the store, releasing its directory lock.
func (s *Store) Close() error { return s.db.Close() }

func keyKey(id KeyID) []byte { return append([]byte{prefixKey}, id[:]...) }

func aliasKey(name string) []byte { return append([]byte{prefixAlias}, name...) }

func grantKey(id KeyID, grant string) []byte {
	return append(append([]byte{prefixGrant}, id[:]...), grant...)
}

// Loader receives the records of a store, one call per record.
type Loader struct {
	Key   func(*KeyRecord) error
	Alias func(*AliasRecord) error
	Grant func(*GrantRecord) error
}

// Load passes every record to l. A record that does not decode stops the
// load with an error: a store kmsd cannot read fully is not served.
func (s *Store) Load(l Loader) error {
	return s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.DefaultIteratorOptions)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			k := item.Key()
			if len(k) == 0 || k[0] == prefixMeta {
				continue
			}
			v, err := item.ValueCopy(nil)
			if err != nil {
				return err
			}
			switch k[0] {
			case prefixKey:
				r, err := DecodeKeyRecord(v)
				if err != nil {
					return err
				}
				if string(k[1:]) != string(r.KeyID[:]) {
					return fmt.Errorf("key record %s stored under another id", r.KeyID)
				}
				if err := l.Key(r); err != nil {
					return err
				}
			case prefixAlias:
				r, err := DecodeAliasRecord(v)
				if err != nil {
					return err
				}
				if err := l.Alias(r); err != nil {
					return err
				}
			case prefixGrant:
				r, err := DecodeGrantRecord(v)
				if err != nil {
					return err
				}
				if string(k) != string(grantKey(r.KeyID, r.GrantID)) {
					return fmt.Errorf("grant record %s stored under another key", r.GrantID)
				}
				if err := l.Grant(r); err != nil {
					return err
				}
			default:
				return fmt.Errorf("unknown record family %q in store", k[0])
			}
		}
		return nil
	})
}

// Batch is a set of changes written atomically by Store.Write.
type Batch struct {
	puts    [][2][]byte
	deletes [][]byte
	err     error
}

// PutKey stores r, replacing any record of the same key.
func (b *Batch) PutKey(r *KeyRecord) {
	r.V = RecordVersion
	v, err := encodeRecord(r)
	if err != nil {
		b.err = errors.Join(b.err, err)
		return
	}
	b.puts = append(b.puts, [2][]byte{keyKey(r.KeyID), v})
}

// DeleteKey removes the record of key id.
func (b *Batch) DeleteKey(id KeyID) { b.deletes = append(b.deletes, keyKey(id)) }

// PutAlias stores r, replacing any alias of the same name.
func (b *Batch) PutAlias(r *AliasRecord) {
	r.V = RecordVersion
	v, err := encodeRecord(r)
	if err != nil {
		b.err = errors.Join(b.err, err)
		return
	}
	b.puts = append(b.puts, [2][]byte{aliasKey(r.AliasName), v})
}

// PutGrant stores a grant.
func (b *Batch) PutGrant(r *GrantRecord) {
	r.V = RecordVersion
	v, err := encodeRecord(r)
	if err != nil {
		b.err = errors.Join(b.err, err)
		return
	}
	b.puts = append(b.puts, [2][]byte{grantKey(r.KeyID, r.GrantID), v})
}

// DeleteGrant removes a grant.
func (b *Batch) DeleteGrant(id KeyID, grant string) {
	b.deletes = append(b.deletes, grantKey(id, grant))
}

// DeleteAlias removes the alias of that name.
func (b *Batch) DeleteAlias(name string) { b.deletes = append(b.deletes, aliasKey(name)) }

// Write applies the batch atomically and, unless the store was opened
// with NoSync, durably before it returns.
func (s *Store) Write(b *Batch) error {
	if b.err != nil {
		return b.err
	}
	return s.db.Update(func(txn *badger.Txn) error {
		for _, d := range b.deletes {
			if err := txn.Delete(d); err != nil {
				return err
			}
		}
		for _, p := range b.puts {
			if err := txn.Set(p[0], p[1]); err != nil {
				return err
			}
		}
		return nil
	})
}

// badgerLogger passes Badger's warnings and errors to slog and drops the
// rest. Badger logs paths and sizes, never values.
type badgerLogger struct{ l *slog.Logger }

func (b badgerLogger) Errorf(f string, a ...any) {
	if b.l != nil {
		b.l.Error("badger: " + strings.TrimSpace(fmt.Sprintf(f, a...)))
	}
}

func (b badgerLogger) Warningf(f string, a ...any) {
	if b.l != nil {
		b.l.Warn("badger: " + strings.TrimSpace(fmt.Sprintf(f, a...)))
	}
}

func (badgerLogger) Infof(string, ...any)  {}
func (badgerLogger) Debugf(string, ...any) {}

// GetMeta returns a metadata value by name, or nil if there is none.
func (s *Store) GetMeta(name string) ([]byte, error) {
	var v []byte
	err := s.db.View(func(txn *badger.Txn) error {
		var err error
		v, err = getCopy(txn, append([]byte{prefixMeta}, name...))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		return err
	})
	return v, err
}

// PutMeta stores a metadata value, synchronously.
func (s *Store) PutMeta(name string, v []byte) error {
	return s.db.Update(func(txn *badger.Txn) error {
		return txn.Set(append([]byte{prefixMeta}, name...), v)
	})
}
