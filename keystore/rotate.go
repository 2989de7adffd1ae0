package keystore

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
)

// Root key rotation moves every key's sealed material from one root key
// to another, crash-safely, though a store write may not hold every key at
// once:
//
//  1. next-seal records: for each key, its versions sealed under the new
//     root key, beside its record ('n' | key id);
//  2. the commit: the store's root check is made for the new key, in one
//     small write; from here the store is the new key's;
//  3. promotion: each key record takes its next seals, and its next-seal
//     record goes.
//
// A crash anywhere leaves next-seal records that FinishRotation resolves
// at the next open: promoted if the store was committed to the key it is
// opened with (they open under it), dropped otherwise.

const prefixNext = 'n' // 'n' | key id -> next-seal record JSON

func nextKey(id KeyID) []byte { return append([]byte{prefixNext}, id[:]...) }

type nextSeal struct {
	KeyID  KeyID    `json:"KeyId"`
	Sealed [][]byte `json:"Sealed"` // by version-1
}

// reseal seals under to what sealed holds under r, the material never
// leaving this package.
func (r *RootKey) reseal(to *RootKey, id KeyID, v uint32, sealed []byte) ([]byte, error) {
	raw, err := r.open(id, v, sealed)
	if err != nil {
		return nil, err
	}
	defer clear(raw)
	if sealed[0] == sealFormatV2 {
		return to.SealKey(id, v, raw)
	}
	return to.Seal(id, v, raw)
}

// rotationBatch is how many keys one write of a rotation carries at
// most: fewer where the store takes fewer changes in one write (etcd's
// 128), since promoting a key is two changes.
const rotationBatch = 100

func keysPerWrite(st Store) int {
	if l, ok := st.(BatchLimiter); ok {
		c, _ := l.MaxBatch()
		return max(1, min(rotationBatch, c/2))
	}
	return rotationBatch
}

// RotateRoot moves every key of st from old to new (see above); hook, if
// set, is called after each step by name (tests stop there). It returns
// each key's versions as now stored. The caller keeps other writes out
// meanwhile.
func RotateRoot(st Store, old, new *RootKey, hook func(step string)) (map[KeyID][]Version, error) {
	if hook == nil {
		hook = func(string) {}
	}
	var keys []*KeyRecord
	if err := Load(st, Loader{Key: func(r *KeyRecord) error { keys = append(keys, r); return nil },
		Alias: func(*AliasRecord) error { return nil }, Grant: func(*GrantRecord) error { return nil }}); err != nil {
		return nil, err
	}
	out := map[KeyID][]Version{}
	per := keysPerWrite(st)
	var b Batch
	for i, r := range keys {
		n := nextSeal{KeyID: r.KeyID}
		vs := make([]Version, len(r.Versions))
		for j, v := range r.Versions {
			s, err := old.reseal(new, r.KeyID, v.Version, v.Sealed)
			if err != nil {
				return nil, err
			}
			n.Sealed = append(n.Sealed, s)
			vs[j] = v
			vs[j].Sealed = s
		}
		out[r.KeyID] = vs
		b.putRecord(nextKey(r.KeyID), n)
		if (i+1)%per == 0 {
			if err := st.Write(&b); err != nil {
				return nil, err
			}
			b = Batch{}
		}
	}
	if err := st.Write(&b); err != nil {
		return nil, err
	}
	hook("next-seals-written")
	check, err := new.checkValue()
	if err != nil {
		return nil, err
	}
	var c Batch
	c.Put(metaKey(metaRootCheck), check)
	if err := st.Write(&c); err != nil {
		return nil, err
	}
	hook("committed")
	if err := promote(st, new); err != nil {
		return nil, err
	}
	hook("promoted")
	return out, nil
}

// FinishRotation resolves a rotation a crash interrupted, once st has
// been opened (Init) with rk: next-seal records that open under rk are
// promoted into their key records, others dropped. It reports whether it
// found any.
func FinishRotation(st Store, rk *RootKey) (bool, error) {
	var any, committed bool
	err := st.Scan([]byte{prefixNext}, func(k, v []byte) error {
		any = true
		var n nextSeal
		if err := json.Unmarshal(v, &n); err != nil {
			return fmt.Errorf("next-seal record: %w", err)
		}
		if len(n.Sealed) == 0 {
			return nil // a key without material tells nothing
		}
		err := rk.check(n.KeyID, 1, n.Sealed[0])
		committed = err == nil
		return errStop
	})
	if err != nil && !errors.Is(err, errStop) {
		return any, err
	}
	if !any {
		return false, nil
	}
	if committed {
		return true, promote(st, rk)
	}
	return true, drop(st)
}

var errStop = errors.New("stop")

// promote gives each key record its next seals (checked to open under rk)
// and removes the next-seal records.
func promote(st Store, rk *RootKey) error {
	var recs []nextSeal
	if err := st.Scan([]byte{prefixNext}, func(k, v []byte) error {
		var n nextSeal
		if err := json.Unmarshal(v, &n); err != nil {
			return fmt.Errorf("next-seal record: %w", err)
		}
		recs = append(recs, n)
		return nil
	}); err != nil {
		return err
	}
	per := keysPerWrite(st)
	var b Batch
	for i, n := range recs {
		raw, err := st.Get(keyKey(n.KeyID))
		if err != nil {
			if errors.Is(err, ErrNotFound) { // deleted meanwhile
				b.Delete(nextKey(n.KeyID))
				continue
			}
			return err
		}
		r, err := DecodeKeyRecord(raw)
		if err != nil {
			return err
		}
		if len(r.Versions) != len(n.Sealed) {
			return fmt.Errorf("key %s has %d versions and %d next seals", r.KeyID, len(r.Versions), len(n.Sealed))
		}
		for j := range r.Versions {
			if err := rk.check(r.KeyID, r.Versions[j].Version, n.Sealed[j]); err != nil {
				return err
			}
			r.Versions[j].Sealed = n.Sealed[j]
		}
		b.PutKey(r)
		b.Delete(nextKey(n.KeyID))
		if (i+1)%per == 0 {
			if err := st.Write(&b); err != nil {
				return err
			}
			b = Batch{}
		}
	}
	return st.Write(&b)
}

// drop removes the next-seal records of a rotation never committed, in
// writes the store takes.
func drop(st Store) error {
	var keys [][]byte
	if err := st.Scan([]byte{prefixNext}, func(k, _ []byte) error {
		keys = append(keys, append([]byte(nil), k...))
		return nil
	}); err != nil {
		return err
	}
	for chunk := range slices.Chunk(keys, 2*keysPerWrite(st)) {
		var b Batch
		for _, k := range chunk {
			b.Delete(k)
		}
		if err := st.Write(&b); err != nil {
			return err
		}
	}
	return nil
}
