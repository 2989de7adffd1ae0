//go:build cgo

package hsm

import (
	"errors"
	"fmt"
	"sync"

	"github.com/miekg/pkcs11"
)

// modules are the loaded PKCS#11 modules by path: a module is initialized
// once per process and shared by the tokens opened through it.
var (
	modulesMu sync.Mutex
	modules   = map[string]*pkcs11.Ctx{}
)

func module(path string) (*pkcs11.Ctx, error) {
	modulesMu.Lock()
	defer modulesMu.Unlock()
	if c, ok := modules[path]; ok {
		return c, nil
	}
	if err := CheckModule(path); err != nil {
		return nil, err
	}
	c := pkcs11.New(path)
	if c == nil {
		return nil, fmt.Errorf("%w: %s", ErrModule, path)
	}
	if err := c.Initialize(); err != nil && !errors.Is(err, pkcs11.Error(pkcs11.CKR_CRYPTOKI_ALREADY_INITIALIZED)) {
		c.Destroy()
		return nil, fmt.Errorf("%w: %s: %v", ErrModule, path, err)
	}
	modules[path] = c
	return c, nil
}

// Token is a logged-in PKCS#11 token.
type Token struct {
	p      *pkcs11.Ctx
	slot   uint
	serial string
	pool   chan pkcs11.SessionHandle
	login  pkcs11.SessionHandle // kept open: the login lasts while a session does
	mu     sync.Mutex
	keys   map[string]pkcs11.ObjectHandle
	closed bool
}

// Open finds the token c names and logs in.
func Open(c Config) (*Token, error) {
	defer clear(c.PIN)
	p, err := module(c.Module)
	if err != nil {
		return nil, err
	}
	slots, err := p.GetSlotList(true)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrModule, err)
	}
	found := false
	var slot uint
	var serial string
	for _, s := range slots {
		ti, err := p.GetTokenInfo(s)
		if err != nil {
			continue
		}
		if (c.Serial != "" && ti.SerialNumber == c.Serial) || (c.Serial == "" && c.Label != "" && ti.Label == c.Label) {
			slot, serial, found = s, ti.SerialNumber, true
			break
		}
	}
	if !found {
		return nil, ErrTokenNotFound
	}
	login, err := p.OpenSession(slot, pkcs11.CKF_SERIAL_SESSION|pkcs11.CKF_RW_SESSION)
	if err != nil {
		return nil, fmt.Errorf("opening a session: %w", err)
	}
	if err := p.Login(login, pkcs11.CKU_USER, string(c.PIN)); err != nil && !errors.Is(err, pkcs11.Error(pkcs11.CKR_USER_ALREADY_LOGGED_IN)) {
		p.CloseSession(login)
		if errors.Is(err, pkcs11.Error(pkcs11.CKR_PIN_INCORRECT)) || errors.Is(err, pkcs11.Error(pkcs11.CKR_PIN_INVALID)) ||
			errors.Is(err, pkcs11.Error(pkcs11.CKR_PIN_LEN_RANGE)) || errors.Is(err, pkcs11.Error(pkcs11.CKR_PIN_LOCKED)) {
			return nil, ErrPIN
		}
		return nil, fmt.Errorf("logging in: %w", err)
	}
	return &Token{p: p, slot: slot, serial: serial, pool: make(chan pkcs11.SessionHandle, sessions), login: login, keys: map[string]pkcs11.ObjectHandle{}}, nil
}

// Serial is the token's serial number.
func (t *Token) Serial() string { return t.serial }

// session takes a session from the pool or opens one.
func (t *Token) session() (pkcs11.SessionHandle, error) {
	select {
	case s := <-t.pool:
		return s, nil
	default:
		return t.p.OpenSession(t.slot, pkcs11.CKF_SERIAL_SESSION|pkcs11.CKF_RW_SESSION)
	}
}

// put gives a session back (or closes it when the pool is full).
func (t *Token) put(s pkcs11.SessionHandle) {
	select {
	case t.pool <- s:
	default:
		t.p.CloseSession(s)
	}
}

// GenerateKey makes an AES-256 key named label in the token: sensitive,
// not extractable, for encryption and decryption only.
func (t *Token) GenerateKey(label string) error {
	s, err := t.session()
	if err != nil {
		return err
	}
	defer t.put(s)
	h, err := t.p.GenerateKey(s, []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_AES_KEY_GEN, nil)}, []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_SECRET_KEY), pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_AES),
		pkcs11.NewAttribute(pkcs11.CKA_VALUE_LEN, 32), pkcs11.NewAttribute(pkcs11.CKA_TOKEN, true),
		pkcs11.NewAttribute(pkcs11.CKA_PRIVATE, true), pkcs11.NewAttribute(pkcs11.CKA_SENSITIVE, true),
		pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, false), pkcs11.NewAttribute(pkcs11.CKA_ENCRYPT, true),
		pkcs11.NewAttribute(pkcs11.CKA_DECRYPT, true), pkcs11.NewAttribute(pkcs11.CKA_WRAP, false),
		pkcs11.NewAttribute(pkcs11.CKA_LABEL, label), pkcs11.NewAttribute(pkcs11.CKA_ID, []byte(label)),
	})
	if err != nil {
		return fmt.Errorf("generating a key in the token: %w", err)
	}
	t.mu.Lock()
	t.keys[label] = h
	t.mu.Unlock()
	return nil
}

// key finds the key named label.
func (t *Token) key(s pkcs11.SessionHandle, label string) (pkcs11.ObjectHandle, error) {
	t.mu.Lock()
	h, ok := t.keys[label]
	t.mu.Unlock()
	if ok {
		return h, nil
	}
	if err := t.p.FindObjectsInit(s, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_SECRET_KEY),
		pkcs11.NewAttribute(pkcs11.CKA_LABEL, label)}); err != nil {
		return 0, err
	}
	hs, _, err := t.p.FindObjects(s, 2)
	t.p.FindObjectsFinal(s)
	if err != nil {
		return 0, err
	}
	if len(hs) != 1 {
		return 0, ErrNoKey
	}
	t.mu.Lock()
	t.keys[label] = hs[0]
	t.mu.Unlock()
	return hs[0], nil
}

// HasKey reports whether the token holds the key named label.
func (t *Token) HasKey(label string) bool {
	s, err := t.session()
	if err != nil {
		return false
	}
	defer t.put(s)
	_, err = t.key(s, label)
	return err == nil
}

// gcm runs one AES-256-GCM operation (16-byte tag) of the key named label
// on a session of the pool: init starts it, do runs it on in.
func (t *Token) gcm(label string, iv, aad, in []byte,
	init func(pkcs11.SessionHandle, []*pkcs11.Mechanism, pkcs11.ObjectHandle) error,
	do func(pkcs11.SessionHandle, []byte) ([]byte, error)) ([]byte, error) {
	s, err := t.session()
	if err != nil {
		return nil, err
	}
	defer t.put(s)
	h, err := t.key(s, label)
	if err != nil {
		return nil, err
	}
	params := pkcs11.NewGCMParams(iv, aad, 128)
	defer params.Free()
	if err := init(s, []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_AES_GCM, params)}, h); err != nil {
		return nil, err
	}
	return do(s, in)
}

// Seal encrypts plaintext with the key named label (AES-256-GCM, 16-byte
// tag), appending ciphertext and tag to dst.
func (t *Token) Seal(label string, dst, iv, aad, plaintext []byte) ([]byte, error) {
	ct, err := t.gcm(label, iv, aad, plaintext, t.p.EncryptInit, t.p.Encrypt)
	if err != nil {
		return dst, err
	}
	return append(dst, ct...), nil
}

// Open decrypts ciphertext (with its tag) with the key named label,
// appending the plaintext to dst; a tag that does not authenticate fails.
func (t *Token) Open(label string, dst, iv, aad, ciphertext []byte) ([]byte, error) {
	pt, err := t.gcm(label, iv, aad, ciphertext, t.p.DecryptInit, t.p.Decrypt)
	if err != nil {
		return dst, err
	}
	out := append(dst, pt...)
	clear(pt)
	return out, nil
}

// DestroyKey deletes the key named label from the token.
func (t *Token) DestroyKey(label string) error {
	s, err := t.session()
	if err != nil {
		return err
	}
	defer t.put(s)
	h, err := t.key(s, label)
	if err != nil {
		return err
	}
	if err := t.p.DestroyObject(s, h); err != nil {
		return err
	}
	t.mu.Lock()
	delete(t.keys, label)
	t.mu.Unlock()
	return nil
}

// Close logs out and closes the token's sessions.
func (t *Token) Close() error {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return nil
	}
	t.closed = true
	t.mu.Unlock()
	for {
		select {
		case s := <-t.pool:
			t.p.CloseSession(s)
			continue
		default:
		}
		break
	}
	t.p.Logout(t.login)
	return t.p.CloseSession(t.login)
}
