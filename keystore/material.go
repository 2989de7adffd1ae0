package keystore

import (
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"golang.org/x/crypto/chacha20poly1305"

	"kmsd/keystore/xaes"
)

// MaterialSize is the size of a key version's material.
const MaterialSize = 32

// EpochMessages is how many XAES-256-GCM messages one nonce epoch seals
// before a new random prefix is drawn. See Material.
const EpochMessages = 1 << 20

// Material is one unsealed version of a key, ready for both suites. It is
// safe for concurrent use until Wipe.
//
// XAES-256-GCM nonces are a 12-byte random prefix (an epoch) followed by a
// 12-byte counter; the AES-GCM instance derived for the prefix is reused
// for EpochMessages messages, then a new prefix is drawn. The blobs are
// ordinary XAES-256-GCM: any implementation opens them. Two epochs collide
// with probability about E²/2^97 after E epochs, and no derived key seals
// more than 2^20 messages, so the bound of docs/ciphertext-format.md holds
// with no state kept across restarts. XChaCha20-Poly1305 nonces are 24
// random bytes.
//
// The ciphers are made from the material on its first use, and the copy
// of the material is cleared then: a host holds many keys (and versions)
// it seldom or never uses after start-up, and the expanded AES key
// schedules are about 550 bytes a version, 32 bytes of material kept
// until then.
type Material struct {
	Version uint32

	c       atomic.Pointer[ciphers] // nil until first use
	mu      sync.Mutex              // serializes making c, and Wipe
	key     [MaterialSize]byte      // the material until c is made; zero after
	wiped   bool
	epoch   atomic.Pointer[epoch]
	epochMu sync.Mutex   // serializes drawing a new epoch
	opened  atomic.Value // *openCache: the last prefix opened
}

// ciphers are what a version's material is used through.
type ciphers struct {
	xaes    *xaes.AEAD
	xchacha cipher.AEAD
}

type epoch struct {
	prefix [xaes.PrefixSize]byte
	gcm    cipher.AEAD
	next   atomic.Uint64
}

type openCache struct {
	prefix [xaes.PrefixSize]byte
	gcm    cipher.AEAD
}

// NewMaterial prepares version v from 32 bytes of key material. The slice is
// not retained; the caller should zero it.
func NewMaterial(v uint32, key []byte) (*Material, error) {
	if len(key) != MaterialSize {
		return nil, fmt.Errorf("key material must be %d bytes", MaterialSize)
	}
	return &Material{Version: v, key: [MaterialSize]byte(key)}, nil
}

// errWiped is what a Material reports when it is used after Wipe.
var errWiped = errors.New("key material used after it was wiped")

// ciphers returns the version's ciphers, making them on first use.
func (m *Material) ciphers() (*ciphers, error) {
	if c := m.c.Load(); c != nil {
		return c, nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if c := m.c.Load(); c != nil {
		return c, nil
	}
	if m.wiped {
		return nil, errWiped
	}
	x, err := xaes.New(m.key[:])
	if err != nil {
		return nil, err
	}
	ch, err := chacha20poly1305.NewX(m.key[:])
	if err != nil {
		return nil, err
	}
	c := &ciphers{xaes: x, xchacha: ch}
	m.c.Store(c)
	clear(m.key[:])
	return c, nil
}

// GenerateMaterial draws 32 bytes from crypto/rand for version v.
func GenerateMaterial(v uint32) (*Material, []byte, error) {
	key := make([]byte, MaterialSize)
	if _, err := rand.Read(key); err != nil {
		return nil, nil, err
	}
	m, err := NewMaterial(v, key)
	if err != nil {
		return nil, nil, err
	}
	return m, key, nil
}

// Wipe zeroes what of the material this package can reach. It is best
// effort: the AES key schedules inside crypto/aes and the key copy inside
// x/crypto's XChaCha20-Poly1305 cannot be reached, so they stay in memory
// until the garbage collector reuses it. m must not be used afterwards.
func (m *Material) Wipe() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if c := m.c.Swap(nil); c != nil {
		c.xaes.Wipe()
	}
	clear(m.key[:])
	m.wiped = true
	m.epoch.Store(nil)
	m.opened.Store((*openCache)(nil))
}

var errAlg = errors.New("unknown algorithm")

// seal picks a nonce, writes it into nonceDst and nonceAAD (the nonce field
// of the header in the blob and in the additional data), and appends the
// sealed plaintext to dst. The nonce comes from run, when not nil.
func (m *Material) seal(dst []byte, run *NonceRun, alg Alg, nonceDst, nonceAAD, aad, plaintext []byte) ([]byte, error) {
	switch alg {
	case AlgXAES256GCM:
		var e *epoch
		var n uint64
		var err error
		if run != nil {
			e, n, err = run.take(m)
		} else {
			e, n, err = m.nextNonce()
		}
		if err != nil {
			return dst, err
		}
		copy(nonceDst, e.prefix[:])
		clear(nonceDst[xaes.PrefixSize:])
		binary.BigEndian.PutUint64(nonceDst[16:], n)
		copy(nonceAAD, nonceDst)
		return e.gcm.Seal(dst, nonceDst[xaes.PrefixSize:], plaintext, aad), nil
	case AlgXChaCha20Poly1305:
		if _, err := rand.Read(nonceDst); err != nil {
			return dst, err
		}
		copy(nonceAAD, nonceDst)
		c, err := m.ciphers()
		if err != nil {
			return dst, err
		}
		return c.xchacha.Seal(dst, nonceDst, plaintext, aad), nil
	}
	return dst, errAlg
}

// nextNonce returns the current epoch and a counter value unique within it,
// drawing a new epoch when the current one is used up.
func (m *Material) nextNonce() (*epoch, uint64, error) {
	for {
		if e := m.epoch.Load(); e != nil {
			if n := e.next.Add(1) - 1; n < EpochMessages {
				return e, n, nil
			}
		}
		if err := m.newEpoch(); err != nil {
			return nil, 0, err
		}
	}
}

// newEpoch draws a new epoch unless another caller has just done so (the
// current one is not used up).
func (m *Material) newEpoch() error {
	m.epochMu.Lock()
	defer m.epochMu.Unlock()
	if e := m.epoch.Load(); e != nil && e.next.Load() < EpochMessages {
		return nil
	}
	ne := &epoch{}
	if _, err := rand.Read(ne.prefix[:]); err != nil {
		return err
	}
	c, err := m.ciphers()
	if err != nil {
		return err
	}
	g, err := c.xaes.Derive(ne.prefix[:])
	if err != nil {
		return err
	}
	ne.gcm = g
	m.epoch.Store(ne)
	return nil
}

// open authenticates and decrypts body (ciphertext and tag) with the nonce.
func (m *Material) open(dst []byte, alg Alg, nonce, body, aad []byte) ([]byte, error) {
	switch alg {
	case AlgXAES256GCM:
		var g cipher.AEAD
		if c, _ := m.opened.Load().(*openCache); c != nil && [xaes.PrefixSize]byte(nonce[:xaes.PrefixSize]) == c.prefix {
			g = c.gcm
		} else if e := m.epoch.Load(); e != nil && [xaes.PrefixSize]byte(nonce[:xaes.PrefixSize]) == e.prefix {
			g = e.gcm
		} else {
			c, err := m.ciphers()
			if err != nil {
				return dst, err
			}
			if g, err = c.xaes.Derive(nonce[:xaes.PrefixSize]); err != nil {
				return dst, err
			}
			m.opened.Store(&openCache{prefix: [xaes.PrefixSize]byte(nonce[:xaes.PrefixSize]), gcm: g})
		}
		return g.Open(dst, nonce[xaes.PrefixSize:], body, aad)
	case AlgXChaCha20Poly1305:
		c, err := m.ciphers()
		if err != nil {
			return dst, err
		}
		return c.xchacha.Open(dst, nonce, body, aad)
	}
	return dst, errAlg
}

// Derive returns a 32-byte key derived from this version's material for a
// purpose named by a 12-byte label: the NIST SP 800-108 counter KDF with
// CMAC-AES-256 that XAES-256-GCM itself uses (with the label as its
// context), so no other construction is involved. It is how kmsd's own
// keys yield secrets such as the audit trail's MAC key; the material
// itself never leaves the package.
// It panics if m was wiped.
func (m *Material) Derive(label [12]byte) [32]byte {
	c, err := m.ciphers()
	if err != nil {
		panic("keystore: " + err.Error())
	}
	var k [32]byte
	c.xaes.DeriveKey(&k, label[:])
	return k
}
