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
	// Meta, if set, receives each metadata value by name.
	Meta func(name string, value []byte) error
	// Rev, if set, receives the store key and revision of every record,
	// metadata included (for a cache that writes conditionally).
	Rev func(key []byte, rev int64)
}

// Load passes every record of st to l, from one consistent view. A record
// that does not decode stops the load with an error: a store kmsd cannot
// read fully is not served.
func Load(st Store, l Loader) error {
	_, err := LoadRev(st, l)
	return err
}

// LoadRev is Load that returns the revision of the view it read.
func LoadRev(st Store, l Loader) (int64, error) {
	return st.ScanRev(nil, func(k, v []byte, rev int64) error {
		if len(k) == 0 {
			return errors.New("an empty key in the store")
		}
		if l.Rev != nil {
			l.Rev(k, rev)
		}
		switch k[0] {
		case prefixMeta:
			if l.Meta != nil {
				return l.Meta(string(k[1:]), v)
			}
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

// Record is one record of a Store as a watcher sees it (RecordOf): its
// family and identity, and, unless it was deleted, its decoded value.
type Record struct {
	Key   *KeyRecord   // a key's record (Family 'k'): KeyID says which
	Alias *AliasRecord // an alias (Family 'a' or 'u'): AliasOwner and AliasName say which
	Grant *GrantRecord // a grant (Family 'g'): KeyID and GrantID say which

	Family     byte
	KeyID      KeyID
	GrantID    string
	AliasOwner *uint32
	AliasName  string
	MetaName   string // Family 'm'
}

// Record families, as RecordOf reports them.
const (
	FamilyKey   = prefixKey
	FamilyAlias = prefixAlias
	FamilyOwned = prefixOwned
	FamilyGrant = prefixGrant
	FamilyMeta  = prefixMeta
	FamilyNext  = prefixNext
)

// RecordOf decodes a change a Watch passed: the record's identity from
// its key and, for a put, its value, checked as Load checks them.
func RecordOf(c Change) (Record, error) {
	k := c.Key
	if len(k) == 0 {
		return Record{}, errors.New("an empty key in the store")
	}
	r := Record{Family: k[0]}
	var err error
	switch k[0] {
	case prefixKey:
		if len(k) != 1+len(r.KeyID) {
			return r, fmt.Errorf("key record under a malformed key")
		}
		copy(r.KeyID[:], k[1:])
		if !c.Delete {
			if r.Key, err = DecodeKeyRecord(c.Value); err == nil && r.Key.KeyID != r.KeyID {
				err = fmt.Errorf("key record %s stored under another id", r.Key.KeyID)
			}
		}
	case prefixAlias:
		r.AliasName = string(k[1:])
	case prefixOwned:
		if len(k) < 5 {
			return r, fmt.Errorf("alias record under a malformed key")
		}
		o := binary.BigEndian.Uint32(k[1:5])
		r.AliasOwner, r.AliasName = &o, string(k[5:])
	case prefixGrant:
		if len(k) <= 1+len(r.KeyID) {
			return r, fmt.Errorf("grant record under a malformed key")
		}
		copy(r.KeyID[:], k[1:])
		r.GrantID = string(k[1+len(r.KeyID):])
		if !c.Delete {
			if r.Grant, err = DecodeGrantRecord(c.Value); err == nil && string(k) != string(grantKey(r.Grant.KeyID, r.Grant.GrantID)) {
				err = fmt.Errorf("grant record %s stored under another key", r.Grant.GrantID)
			}
		}
	case prefixMeta:
		r.MetaName = string(k[1:])
	case prefixNext:
	default:
		return r, fmt.Errorf("unknown record family %q in store", k[0])
	}
	if (k[0] == prefixAlias || k[0] == prefixOwned) && !c.Delete {
		if r.Alias, err = DecodeAliasRecord(c.Value); err == nil && string(k) != string(aliasKey(r.Alias.Owner, r.Alias.AliasName)) {
			err = fmt.Errorf("alias record %s stored under another name or owner", r.Alias.AliasName)
		}
	}
	return r, err
}

// MetaRootCheck names the metadata value that checks the root key: a
// fleet host whose root key no longer matches it must be given the new
// one.
const MetaRootCheck = metaRootCheck

// CheckRootValue reports whether rk is the root key the check value v
// (the MetaRootCheck metadata) was made for: ErrWrongRootKey if not.
func CheckRootValue(rk *RootKey, v []byte) error { return rk.verifyCheckValue(v) }

// MetaKey is the store key of the metadata value name.
func MetaKey(name string) []byte { return metaKey(name) }
