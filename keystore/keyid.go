package keystore

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
)

// KeyID is the 16-byte identity of a key: a random (version 4) UUID.
type KeyID [16]byte

// NewKeyID returns a random version 4 UUID from crypto/rand.
func NewKeyID() KeyID {
	var id KeyID
	rand.Read(id[:])
	id[6] = id[6]&0x0f | 0x40
	id[8] = id[8]&0x3f | 0x80
	return id
}

// errBadKeyID is returned by ParseKeyID for anything but a canonical UUID.
var errBadKeyID = errors.New("not a key id (want a UUID like 1234abcd-12ab-34cd-56ef-1234567890ab)")

// ParseKeyID parses the canonical 36-character UUID form, in either case.
func ParseKeyID(s string) (KeyID, error) {
	var id KeyID
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return id, errBadKeyID
	}
	var buf [32]byte
	n := copy(buf[:], s[0:8])
	n += copy(buf[n:], s[9:13])
	n += copy(buf[n:], s[14:18])
	n += copy(buf[n:], s[19:23])
	copy(buf[n:], s[24:36])
	if _, err := hex.Decode(id[:], buf[:]); err != nil {
		return KeyID{}, errBadKeyID
	}
	return id, nil
}

// String returns the canonical lower-case UUID form.
func (id KeyID) String() string {
	var b [36]byte
	hex.Encode(b[0:8], id[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], id[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], id[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], id[8:10])
	b[23] = '-'
	hex.Encode(b[24:], id[10:])
	return string(b[:])
}

// MarshalText encodes the id as its UUID string.
func (id KeyID) MarshalText() ([]byte, error) { return []byte(id.String()), nil }

// UnmarshalText parses a UUID string.
func (id *KeyID) UnmarshalText(b []byte) error {
	v, err := ParseKeyID(string(b))
	if err != nil {
		return err
	}
	*id = v
	return nil
}
