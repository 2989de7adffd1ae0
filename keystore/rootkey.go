package keystore

import (
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"

	"kmsd/keystore/xaes"
)

// RootKeySize is the size of the root key.
const RootKeySize = 32

// Sealed key material, format 1: 0x01 | nonce (24) | ciphertext (32) | tag (16),
// XAES-256-GCM under the sealing key, with additional data
// "kmsd/v1/key-material" | key id (16) | version (4, big-endian).
const (
	sealFormatV1 = 0x01
	sealedSize   = 1 + xaes.NonceSize + MaterialSize + xaes.Overhead
	sealLabel    = "kmsd/v1/key-material"
	checkLabel   = "kmsd/v1/root-key-check"
)

// Sealed key material, format 2, for the keys that are not symmetric
// encryption keys (package keyspec: PKCS#8, a seed, an HMAC key): 0x02 |
// nonce (24) | ciphertext (1..MaxKeyMaterial) | tag (16), XAES-256-GCM
// under the sealing key, with additional data "kmsd/v1/key-material-2" |
// key id (16) | version (4, big-endian).
const (
	sealFormatV2 = 0x02
	sealLabelV2  = "kmsd/v1/key-material-2"
	// MaxKeyMaterial bounds format 2's material.
	MaxKeyMaterial = 8192
)

// ErrWrongRootKey means sealed data did not open under this root key.
var ErrWrongRootKey = errors.New("root key does not match the one this state was sealed with")

// RootKey seals key material at rest. It holds only a key derived from the
// root key (HKDF-SHA256, info "kmsd/v1/seal"), never the root key itself.
type RootKey struct {
	aead *xaes.AEAD
	id   string
}

// ID names the root key without saying anything of it: 16 hex digits
// derived from it (HKDF-SHA256, info "kmsd/v1/root-key-id"), which a
// backup's header carries so that the key it needs can be found among
// those kept.
func (r *RootKey) ID() string { return r.id }

// NewRootKey derives the sealing key from 32 bytes of root key. The caller
// should zero the slice afterwards.
func NewRootKey(secret []byte) (*RootKey, error) {
	if len(secret) != RootKeySize {
		return nil, fmt.Errorf("root key must be exactly %d bytes, got %d", RootKeySize, len(secret))
	}
	k, err := hkdf.Key(sha256.New, secret, nil, "kmsd/v1/seal", xaes.KeySize)
	if err != nil {
		return nil, err
	}
	defer clear(k)
	a, err := xaes.New(k)
	if err != nil {
		return nil, err
	}
	id, err := hkdf.Key(sha256.New, secret, nil, "kmsd/v1/root-key-id", 8)
	if err != nil {
		return nil, err
	}
	return &RootKey{aead: a, id: hex.EncodeToString(id)}, nil
}

// LoadRootKey reads a root key file: a regular file of exactly 32 bytes,
// owned by kmsd's user or root and not readable or writable by group or
// others (a systemd credential is 0400 or 0600). It is opened without
// waiting, so that a FIFO or a device at the path is refused at once
// instead of hanging the start.
func LoadRootKey(path string) (*RootKey, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("open root key: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat root key: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("root key %s is not a regular file", path)
	}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok && sys.Uid != 0 && int(sys.Uid) != os.Geteuid() {
		return nil, fmt.Errorf("root key %s is owned by uid %d: it must be kmsd's user's or root's", path, sys.Uid)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("root key %s has mode %04o; it must not be accessible by group or others (chmod 600)", path, st.Mode().Perm())
	}
	var buf [RootKeySize + 1]byte
	defer clear(buf[:])
	n, err := io.ReadFull(f, buf[:])
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, fmt.Errorf("read root key: %w", err)
	}
	if n != RootKeySize {
		return nil, fmt.Errorf("root key %s must be exactly %d bytes", path, RootKeySize)
	}
	return NewRootKey(buf[:RootKeySize])
}

// CreateRootKey writes 32 bytes from crypto/rand to a new file with mode
// 0600, synced along with its directory. It fails if the file exists.
func CreateRootKey(path string) error {
	var buf [RootKeySize]byte
	defer clear(buf[:])
	if _, err := rand.Read(buf[:]); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("create root key: %w", err)
	}
	if _, err := f.Write(buf[:]); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("write root key: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func sealAAD(label string, id KeyID, v uint32) []byte {
	aad := make([]byte, 0, len(label)+len(id)+4)
	aad = append(aad, label...)
	aad = append(aad, id[:]...)
	return binary.BigEndian.AppendUint32(aad, v)
}

// Seal seals 32 bytes of material for version v of key id.
func (r *RootKey) Seal(id KeyID, v uint32, material []byte) ([]byte, error) {
	if len(material) != MaterialSize {
		return nil, fmt.Errorf("key material must be %d bytes", MaterialSize)
	}
	out := make([]byte, 1+xaes.NonceSize, sealedSize)
	out[0] = sealFormatV1
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, err
	}
	return r.aead.Seal(out, out[1:], material, sealAAD(sealLabel, id, v)), nil
}

// Unseal opens sealed material of version v of key id and prepares it. Any
// failure, including a record moved to another key or version, is
// ErrWrongRootKey or a format error; nothing about the material leaks.
func (r *RootKey) Unseal(id KeyID, v uint32, sealed []byte) (*Material, error) {
	if len(sealed) != sealedSize || sealed[0] != sealFormatV1 {
		return nil, fmt.Errorf("sealed material of key %s version %d is malformed", id, v)
	}
	key, err := r.open(id, v, sealed)
	if err != nil {
		return nil, err
	}
	defer clear(key)
	return NewMaterial(v, key)
}

// SealKey seals the material of a key that is not a symmetric encryption
// key (format 2): 1 to MaxKeyMaterial bytes, as package keyspec writes it.
func (r *RootKey) SealKey(id KeyID, v uint32, material []byte) ([]byte, error) {
	if len(material) < 1 || len(material) > MaxKeyMaterial {
		return nil, fmt.Errorf("key material must be 1 to %d bytes", MaxKeyMaterial)
	}
	out := make([]byte, 1+xaes.NonceSize, 1+xaes.NonceSize+len(material)+xaes.Overhead)
	out[0] = sealFormatV2
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, err
	}
	return r.aead.Seal(out, out[1:], material, sealAAD(sealLabelV2, id, v)), nil
}

// UnsealKey opens material SealKey sealed; the caller zeroes it once
// parsed. Failures are as Unseal's.
func (r *RootKey) UnsealKey(id KeyID, v uint32, sealed []byte) ([]byte, error) {
	if len(sealed) < 1 || sealed[0] != sealFormatV2 {
		return nil, fmt.Errorf("sealed material of key %s version %d is malformed", id, v)
	}
	return r.open(id, v, sealed)
}

// open opens sealed material of either format, checking its size.
func (r *RootKey) open(id KeyID, v uint32, sealed []byte) ([]byte, error) {
	const min = 1 + xaes.NonceSize + xaes.Overhead
	var label string
	switch {
	case len(sealed) == sealedSize && sealed[0] == sealFormatV1:
		label = sealLabel
	case len(sealed) > min && len(sealed) <= min+MaxKeyMaterial && sealed[0] == sealFormatV2:
		label = sealLabelV2
	default:
		return nil, fmt.Errorf("sealed material of key %s version %d is malformed", id, v)
	}
	raw, err := r.aead.Open(make([]byte, 0, len(sealed)-min), sealed[1:1+xaes.NonceSize], sealed[1+xaes.NonceSize:], sealAAD(label, id, v))
	if err != nil {
		return nil, fmt.Errorf("unseal key %s version %d: %w", id, v, ErrWrongRootKey)
	}
	return raw, nil
}

// check reports whether sealed (either format) opens under r.
func (r *RootKey) check(id KeyID, v uint32, sealed []byte) error {
	raw, err := r.open(id, v, sealed)
	clear(raw)
	return err
}

// checkValue seals a fixed string so a store can tell, on open, that it is
// being opened with the root key it was written under.
func (r *RootKey) checkValue() ([]byte, error) {
	out := make([]byte, 1+xaes.NonceSize)
	out[0] = sealFormatV1
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, err
	}
	return r.aead.Seal(out, out[1:], nil, []byte(checkLabel)), nil
}

func (r *RootKey) verifyCheckValue(v []byte) error {
	if len(v) != 1+xaes.NonceSize+xaes.Overhead || v[0] != sealFormatV1 {
		return ErrWrongRootKey
	}
	if _, err := r.aead.Open(nil, v[1:1+xaes.NonceSize], v[1+xaes.NonceSize:], []byte(checkLabel)); err != nil {
		return ErrWrongRootKey
	}
	return nil
}
