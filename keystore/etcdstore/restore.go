package etcdstore

import (
	"errors"
	"fmt"

	"kmsd/keystore"
)

// metaRestoring marks a prefix a restore is writing into: a kmsd host
// refuses such a prefix (CheckRestored), so that a restore cut short is
// never served as a store with keys missing.
const metaRestoring = "restoring"

// ErrRestoreUnfinished is what CheckRestored says of a prefix a restore
// began writing and did not finish.
var ErrRestoreUnfinished = errors.New("a restore into this prefix did not finish")

// Restore writes a backup (keystore.Restore) into the store, whose
// prefix must hold nothing: first a marker, claimed by a conditional
// write (two restores cannot both start), then the records in
// transactions within etcd's limits, then the store's format and root
// check, and last the marker's removal.
func Restore(st *Store, rk *keystore.RootKey, backup []byte, progress func(done, total int)) (keystore.BackupHeader, error) {
	n := 0
	if _, err := st.ScanRev(nil, func([]byte, []byte, int64) error { n++; return nil }); err != nil {
		return keystore.BackupHeader{}, err
	}
	if n > 0 {
		return keystore.BackupHeader{}, fmt.Errorf("%w: %s holds %d records", keystore.ErrNotEmpty, st.Prefix(), n)
	}
	var claim keystore.Batch
	claim.Expect(keystore.MetaKey(metaRestoring), 0)
	claim.PutMeta(metaRestoring, []byte("kmsd restore"))
	if err := st.Write(&claim); err != nil {
		return keystore.BackupHeader{}, fmt.Errorf("claiming %s for the restore: %w", st.Prefix(), err)
	}
	h, err := keystore.Restore(st, rk, backup, progress)
	if err != nil {
		return h, fmt.Errorf("%w (%s holds part of it: delete the prefix, etcdctl del --prefix %s, and restore again)", err, st.Prefix(), st.Prefix())
	}
	var done keystore.Batch
	done.Delete(keystore.MetaKey(metaRestoring))
	return h, st.Write(&done)
}

// CheckRestored refuses a prefix whose restore did not finish.
func CheckRestored(st *Store) error {
	v, err := keystore.GetMeta(st, metaRestoring)
	if err != nil {
		return err
	}
	if v != nil {
		return fmt.Errorf("%w: %s holds part of a backup; delete the prefix (etcdctl del --prefix %s) and run kmsd restore again", ErrRestoreUnfinished, st.Prefix(), st.Prefix())
	}
	return nil
}
