package keystore

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"kmsd/keystore/xaes"
)

// A backup is every record of a store, from one consistent view, sealed
// under the root key, so that it is useless without it:
//
//	"KMSDBAK1" | header length (4 bytes, big-endian) | header (JSON) |
//	nonce (24) | XAES-256-GCM(body, additional data "kmsd/v1/backup" | header)
//
// under the root key's sealing key; the body is the records, each
// uvarint(len key) | key | uvarint(len value) | value. The header says
// what the backup holds (docs/storage-format.md); it is authenticated,
// not secret.
const (
	backupMagic = "KMSDBAK1"
	backupLabel = "kmsd/v1/backup"
	// MaxBackup bounds a backup a restore reads (and so what one may
	// hold): far more than a host's keys take.
	MaxBackup = 1 << 30
)

// BackupHeader describes a backup.
type BackupHeader struct {
	Format      string    `json:"format"` // kmsd-backup-1
	Created     time.Time `json:"created"`
	StoreFormat string    `json:"store_format"`
	Records     int       `json:"records"`
	Keys        int       `json:"keys"`
	// RootKeyID is the ID of the root key the backup is sealed under
	// (RootKey.ID); empty in backups made before kmsd wrote it.
	RootKeyID string `json:"root_key_id,omitempty"`
	// Extra is what the backup's maker adds (kmsd: its version, the audit
	// trail's head when the backup was taken).
	Extra map[string]string `json:"extra,omitempty"`
}

// ErrNotEmpty is Restore's error for a store that already holds records.
var ErrNotEmpty = errors.New("the state directory already holds a store; restore only into an empty one")

// Backup seals every record of st, but the metadata skip says is the
// store's own (kmsd's audit head, which belongs with its trail).
func Backup(st Store, rk *RootKey, skip func(meta string) bool, extra map[string]string) ([]byte, BackupHeader, error) {
	h := BackupHeader{Format: "kmsd-backup-1", Created: time.Now().UTC(), StoreFormat: storeFormat, RootKeyID: rk.ID(), Extra: extra}
	var body []byte
	err := st.Scan(nil, func(k, v []byte) error {
		if len(k) > 0 && k[0] == prefixMeta && skip != nil && skip(string(k[1:])) {
			return nil
		}
		if len(k) > 0 && k[0] == prefixKey {
			h.Keys++
		}
		h.Records++
		body = binary.AppendUvarint(body, uint64(len(k)))
		body = append(body, k...)
		body = binary.AppendUvarint(body, uint64(len(v)))
		body = append(body, v...)
		if len(body) > MaxBackup {
			return errors.New("the store is larger than a backup may be")
		}
		return nil
	})
	if err != nil {
		return nil, h, err
	}
	header, _ := json.Marshal(h)
	out := append([]byte(backupMagic), binary.BigEndian.AppendUint32(nil, uint32(len(header)))...)
	out = append(out, header...)
	nonce := make([]byte, xaes.NonceSize)
	if _, err := rand.Read(nonce); err != nil {
		return nil, h, err
	}
	out = append(out, nonce...)
	out = rk.aead.Seal(out, nonce, body, append([]byte(backupLabel), header...))
	clear(body)
	return out, h, nil
}

// ReadBackupHeader reads a backup's header without opening it.
func ReadBackupHeader(b []byte) (BackupHeader, []byte, []byte, error) {
	var h BackupHeader
	if len(b) < len(backupMagic)+4 || string(b[:len(backupMagic)]) != backupMagic {
		return h, nil, nil, errors.New("not a kmsd backup")
	}
	n := int(binary.BigEndian.Uint32(b[len(backupMagic):]))
	rest := b[len(backupMagic)+4:]
	if n > len(rest) || n > 1<<20 {
		return h, nil, nil, errors.New("a kmsd backup cut short")
	}
	header, sealed := rest[:n], rest[n:]
	if err := json.Unmarshal(header, &h); err != nil || h.Format != "kmsd-backup-1" {
		return h, nil, nil, fmt.Errorf("a kmsd backup of an unknown format: %v", err)
	}
	return h, header, sealed, nil
}

// Restore opens a backup with rk and writes its records into st, which
// must be empty: a backup opens only under the root key it was sealed
// with (ErrWrongRootKey otherwise), and st is then initialized for rk.
func Restore(st Store, rk *RootKey, backup []byte, progress func(done, total int)) (BackupHeader, error) {
	h, header, sealed, err := ReadBackupHeader(backup)
	if err != nil {
		return h, err
	}
	if h.StoreFormat != storeFormat {
		return h, fmt.Errorf("the backup holds a store of format %q; this kmsd reads %q", h.StoreFormat, storeFormat)
	}
	if len(sealed) < xaes.NonceSize+xaes.Overhead {
		return h, errors.New("a kmsd backup cut short")
	}
	body, err := rk.aead.Open(nil, sealed[:xaes.NonceSize], sealed[xaes.NonceSize:], append([]byte(backupLabel), header...))
	if err != nil && h.RootKeyID != "" && h.RootKeyID != rk.ID() {
		return h, fmt.Errorf("the backup was sealed under root key %s, not this one (%s): %w", h.RootKeyID, rk.ID(), ErrWrongRootKey)
	}
	if err != nil {
		return h, fmt.Errorf("the backup does not open: %w (or it was changed)", ErrWrongRootKey)
	}
	defer clear(body)
	if ok, err := Initialized(st); err != nil {
		return h, err
	} else if ok {
		return h, ErrNotEmpty
	}
	// The records go in as many writes as the store's limits on one write
	// ask for (Badger's: a share of its memtable); the restore is whole
	// only once Init has run, after the last, and the caller (statedir)
	// writes into a directory of its own that becomes the store only then.
	maxCount, maxBytes := restoreBatchLimits(st)
	var b Batch
	n, size := 0, 0
	flush := func() error {
		if len(b.changes) == 0 {
			return nil
		}
		if err := st.Write(&b); err != nil {
			return err
		}
		b, size = Batch{}, 0
		if progress != nil {
			progress(n, h.Records)
		}
		return nil
	}
	for r := bytes.NewReader(body); r.Len() > 0; n++ {
		k, err1 := readField(r)
		v, err2 := readField(r)
		if err1 != nil || err2 != nil {
			return h, errors.New("a backup record is malformed")
		}
		if len(k) > 0 && k[0] == prefixMeta && (string(k[1:]) == metaFormat || string(k[1:]) == metaRootCheck) {
			continue // Init writes them for rk
		}
		if rec := len(k) + len(v) + batchEntryOverhead; len(b.changes) > 0 && (len(b.changes)+1 > maxCount || size+rec > maxBytes) {
			if err := flush(); err != nil {
				return h, err
			}
		}
		b.Put(k, v)
		size += len(k) + len(v) + batchEntryOverhead
	}
	if n != h.Records {
		return h, fmt.Errorf("the backup holds %d records where its header says %d", n, h.Records)
	}
	if err := flush(); err != nil {
		return h, err
	}
	return h, Init(st, rk)
}

// BatchLimiter is implemented by a Store that bounds what one Write may
// hold (Badger refuses a transaction past a share of its memtable).
type BatchLimiter interface {
	// MaxBatch is the most changes, and bytes of keys and values, one
	// Write takes.
	MaxBatch() (count int, bytes int64)
}

// batchEntryOverhead is what a change costs a store beyond its key and
// value bytes, counted generously (Badger's entry header and skiplist
// node are under it).
const batchEntryOverhead = 128

// restoreBatchLimits is what Restore puts in one write: half of what the
// store takes, or 1,000 changes and 256 KiB for a store that names no
// limit.
func restoreBatchLimits(st Store) (count, bytes int) {
	count, bytes = 1000, 256<<10
	if l, ok := st.(BatchLimiter); ok {
		c, b := l.MaxBatch()
		count, bytes = max(1, c/2), max(1, int(b/2))
	}
	return count, bytes
}

func readField(r *bytes.Reader) ([]byte, error) {
	n, err := binary.ReadUvarint(r)
	if err != nil || n > uint64(r.Len()) {
		return nil, errors.New("malformed")
	}
	b := make([]byte, n)
	r.Read(b)
	return b, nil
}

// OpensBackup reports whether rk opens backup b: by the root key ID its
// header names, or, in a backup made before headers named it, by opening
// it.
func OpensBackup(b []byte, rk *RootKey) (bool, error) {
	h, header, sealed, err := ReadBackupHeader(b)
	if err != nil {
		return false, err
	}
	if h.RootKeyID != "" {
		return h.RootKeyID == rk.ID(), nil
	}
	if len(sealed) < xaes.NonceSize+xaes.Overhead {
		return false, errors.New("a kmsd backup cut short")
	}
	body, err := rk.aead.Open(nil, sealed[:xaes.NonceSize], sealed[xaes.NonceSize:], append([]byte(backupLabel), header...))
	clear(body)
	return err == nil, nil
}
