package keystore

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Key layout in a Store. Each family is one byte followed by its identity.
const (
	prefixKey   = 'k' // 'k' | key id (16 bytes)       -> KeyRecord JSON
	prefixAlias = 'a' // 'a' | alias name             -> AliasRecord JSON (the administrators' aliases)
	prefixOwned = 'u' // 'u' | owner uid (4 bytes) | alias name -> AliasRecord JSON (one user's aliases)
	prefixGrant = 'g' // 'g' | key id | grant id (hex) -> GrantRecord JSON
	prefixMeta  = 'm' // 'm' | name                   -> store metadata
)

const (
	metaFormat    = "format"
	metaRootCheck = "root-check"
)

// storeFormat is written once into a new store and checked on every open.
const storeFormat = "kmsd-store-1"

func keyKey(id KeyID) []byte { return append([]byte{prefixKey}, id[:]...) }

// aliasKey is where an alias of owner (nil: the administrators' shared
// namespace) is stored.
func aliasKey(owner *uint32, name string) []byte {
	if owner == nil {
		return append([]byte{prefixAlias}, name...)
	}
	return append(binary.BigEndian.AppendUint32([]byte{prefixOwned}, *owner), name...)
}

func grantKey(id KeyID, grant string) []byte {
	return append(append([]byte{prefixGrant}, id[:]...), grant...)
}

func metaKey(name string) []byte { return append([]byte{prefixMeta}, name...) }

// Initialized reports whether st holds a kmsd store: whether Init has
// written its format into it.
func Initialized(st Store) (bool, error) {
	_, err := st.Get(metaKey(metaFormat))
	switch {
	case errors.Is(err, ErrNotFound):
		return false, nil
	case err != nil:
		return false, err
	}
	return true, nil
}

// Init writes the format and a check of the root key rk into a new store,
// or, in an existing one, checks both: a store written by an unknown
// format, or sealed under another root key, fails with ErrWrongRootKey or
// a format error, and nothing is written.
func Init(st Store, rk *RootKey) error {
	format, err := st.Get(metaKey(metaFormat))
	switch {
	case errors.Is(err, ErrNotFound):
		check, err := rk.checkValue()
		if err != nil {
			return err
		}
		var b Batch
		b.Put(metaKey(metaFormat), []byte(storeFormat))
		b.Put(metaKey(metaRootCheck), check)
		return st.Write(&b)
	case err != nil:
		return err
	case string(format) != storeFormat:
		return fmt.Errorf("store format %q is not supported (this kmsd reads %q)", format, storeFormat)
	}
	check, err := st.Get(metaKey(metaRootCheck))
	if err != nil {
		return fmt.Errorf("store has no root key check: %w", err)
	}
	return rk.verifyCheckValue(check)
}

// CheckRootKey reports whether rk is the root key st was sealed under
// (ErrWrongRootKey if not); a store not initialized yet takes any. It
// writes nothing.
func CheckRootKey(st Store, rk *RootKey) error {
	check, err := st.Get(metaKey(metaRootCheck))
	switch {
	case errors.Is(err, ErrNotFound):
		return nil
	case err != nil:
		return err
	}
	return rk.verifyCheckValue(check)
}

// Loader receives the records of a store, one call per record.
type Loader struct {
	Key   func(*KeyRecord) error
	Alias func(*AliasRecord) error
	Grant func(*GrantRecord) error
}

// Load passes every record of st to l, from one consistent view. A record
// that does not decode stops the load with an error: a store kmsd cannot
// read fully is not served.
func Load(st Store, l Loader) error {
	return st.Scan(nil, func(k, v []byte) error {
		if len(k) == 0 {
			return errors.New("an empty key in the store")
		}
		switch k[0] {
		case prefixMeta:
			return nil
		case prefixKey:
			r, err := DecodeKeyRecord(v)
			if err != nil {
				return err
			}
			if string(k[1:]) != string(r.KeyID[:]) {
				return fmt.Errorf("key record %s stored under another id", r.KeyID)
			}
			return l.Key(r)
		case prefixAlias, prefixOwned:
			r, err := DecodeAliasRecord(v)
			if err != nil {
				return err
			}
			if string(k) != string(aliasKey(r.Owner, r.AliasName)) {
				return fmt.Errorf("alias record %s stored under another name or owner", r.AliasName)
			}
			return l.Alias(r)
		case prefixGrant:
			r, err := DecodeGrantRecord(v)
			if err != nil {
				return err
			}
			if string(k) != string(grantKey(r.KeyID, r.GrantID)) {
				return fmt.Errorf("grant record %s stored under another key", r.GrantID)
			}
			return l.Grant(r)
		case prefixNext:
			return errors.New("a root key rotation was not finished (statedir.Open finishes it)")
		}
		// A newer kmsd wrote it: serving without it would be serving less.
		return fmt.Errorf("unknown record family %q in store", k[0])
	})
}

// PutKey stores r, replacing any record of the same key.
func (b *Batch) PutKey(r *KeyRecord) {
	r.V = RecordVersion
	b.putRecord(keyKey(r.KeyID), r)
}

// DeleteKey removes the record of key id.
func (b *Batch) DeleteKey(id KeyID) { b.Delete(keyKey(id)) }

// PutAlias stores r, replacing any alias of the same name and owner.
func (b *Batch) PutAlias(r *AliasRecord) {
	r.V = RecordVersion
	b.putRecord(aliasKey(r.Owner, r.AliasName), r)
}

// DeleteAlias removes owner's alias of that name (owner nil: the
// administrators').
func (b *Batch) DeleteAlias(owner *uint32, name string) { b.Delete(aliasKey(owner, name)) }

// PutGrant stores a grant.
func (b *Batch) PutGrant(r *GrantRecord) {
	r.V = RecordVersion
	b.putRecord(grantKey(r.KeyID, r.GrantID), r)
}

// DeleteGrant removes a grant.
func (b *Batch) DeleteGrant(id KeyID, grant string) { b.Delete(grantKey(id, grant)) }

// PutMeta stores a metadata value (kmsd's own bookkeeping, such as the
// audit trail's last checkpoint) by name.
func (b *Batch) PutMeta(name string, v []byte) { b.Put(metaKey(name), v) }

func (b *Batch) putRecord(key []byte, r any) {
	v, err := encodeRecord(r)
	if err != nil {
		b.err = errors.Join(b.err, err)
		return
	}
	b.Put(key, v)
}

// GetMeta returns a metadata value by name, or nil if there is none.
func GetMeta(st Store, name string) ([]byte, error) {
	v, err := st.Get(metaKey(name))
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	return v, err
}
