package kms

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"kmsd/daemon/policy"
	"kmsd/keystore"
	"kmsd/keystore/memstore"
	"kmsd/keystore/statedir"
	"kmsd/wire/api"
)

// ctx carries root as the caller: root is in every default policy.
var ctx = policy.WithPrincipal(context.Background(), &policy.Principal{UID: 0, GID: 0, Source: "test"})

// clock is a settable clock for Config.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// testService opens a service on a fresh store in memory with a settable
// clock and no background loop.
func testService(t testing.TB, mod ...func(*Config)) (*Service, *clock) {
	t.Helper()
	c := newClock()
	cfg := Config{Store: memstore.New(), RootKey: testRoot(t), Now: c.Now, TickInterval: -1}
	for _, m := range mod {
		m(&cfg)
	}
	s, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, c
}

func testRoot(t testing.TB) *keystore.RootKey {
	rk, err := keystore.NewRootKey(bytes.Repeat([]byte{7}, keystore.RootKeySize))
	if err != nil {
		t.Fatal(err)
	}
	return rk
}

// openDir opens a service on the state directory dir, with Badger on
// disk and the root key kept there: for what must outlast a restart.
func openDir(t testing.TB, dir string, mod ...func(*Config)) (*Service, error) {
	t.Helper()
	st, err := statedir.Open(statedir.Options{Dir: dir})
	if err != nil {
		return nil, err
	}
	cfg := Config{Store: st.Store, RootKey: st.Root, TickInterval: -1}
	for _, m := range mod {
		m(&cfg)
	}
	return Open(cfg)
}

func mustKey(t testing.TB, s *Service) string {
	t.Helper()
	out, err := s.CreateKey(ctx, &api.CreateKeyInput{Description: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return out.KeyMetadata.KeyId
}

// wantCode fails the test unless err carries the exception code (or is nil
// when code is "").
func wantCode(t testing.TB, err error, code string) {
	t.Helper()
	if got := api.CodeOf(err); got != code {
		t.Fatalf("got %v (code %q), want code %q", err, got, code)
	}
	var e *api.Error
	if err != nil && !errors.As(err, &e) {
		t.Fatalf("%v is not a *kms.Error", err)
	}
}

func mustEncrypt(t testing.TB, s *Service, keyID string, pt string, ec map[string]string) []byte {
	t.Helper()
	out, err := s.Encrypt(ctx, &api.EncryptInput{KeyId: keyID, Plaintext: []byte(pt), EncryptionContext: ec})
	if err != nil {
		t.Fatal(err)
	}
	return out.CiphertextBlob
}

func blobVersion(t testing.TB, blob []byte) uint32 {
	t.Helper()
	h, err := keystore.ParseBlobHeader(blob)
	if err != nil {
		t.Fatal(err)
	}
	return h.KeyVersion
}

func parseID(s string) (keystore.KeyID, error) { return keystore.ParseKeyID(s) }

func mustParse(t testing.TB, s string) keystore.KeyID {
	t.Helper()
	id, err := keystore.ParseKeyID(s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}
