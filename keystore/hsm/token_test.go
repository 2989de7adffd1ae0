//go:build cgo

package hsm_test

import (
	"bytes"
	"errors"
	"sync"
	"testing"

	"kmsd/internal/softhsm"
	"kmsd/keystore/hsm"
)

// TestToken: against SoftHSM2, a key made in the token seals and opens
// with AES-256-GCM, binds its additional data, cannot be read out, and is
// found again by a new login; a wrong PIN, a missing token and a missing
// module are told apart.
func TestToken(t *testing.T) {
	h := softhsm.Require(t)
	tok, err := hsm.Open(hsm.Config{Module: h.Module, Label: h.Label, PIN: []byte(h.PIN)})
	if err != nil {
		t.Fatal(err)
	}
	if err := tok.GenerateKey("k1"); err != nil {
		t.Fatal(err)
	}
	iv := bytes.Repeat([]byte{3}, 12)
	ct, err := tok.Seal("k1", nil, iv, []byte("aad"), []byte("in the token"))
	if err != nil || len(ct) != len("in the token")+16 {
		t.Fatalf("seal: %d bytes, %v", len(ct), err)
	}
	if pt, err := tok.Open("k1", nil, iv, []byte("aad"), ct); err != nil || string(pt) != "in the token" {
		t.Fatalf("open: %q %v", pt, err)
	}
	if _, err := tok.Open("k1", nil, iv, []byte("other aad"), ct); err == nil {
		t.Error("other additional data opened")
	}
	ct[0] ^= 1
	if _, err := tok.Open("k1", nil, iv, []byte("aad"), ct); err == nil {
		t.Error("a changed ciphertext opened")
	}
	if _, err := tok.Seal("nope", nil, iv, nil, []byte("x")); !errors.Is(err, hsm.ErrNoKey) {
		t.Errorf("a key the token lacks: %v", err)
	}
	// Many callers at once share the sessions.
	var wg sync.WaitGroup
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := tok.Seal("k1", nil, iv, nil, []byte("concurrent"))
			if err == nil {
				_, err = tok.Open("k1", nil, iv, nil, c)
			}
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	tok.Close()

	// A new login (by serial) finds the key.
	tok2, err := hsm.Open(hsm.Config{Module: h.Module, Serial: h.Serial, PIN: []byte(h.PIN)})
	if err != nil {
		t.Fatal(err)
	}
	if !tok2.HasKey("k1") {
		t.Error("the key is gone after a new login")
	}
	if err := tok2.DestroyKey("k1"); err != nil || tok2.HasKey("k1") {
		t.Errorf("destroy: %v", err)
	}
	tok2.Close()

	for _, tc := range []struct {
		name string
		cfg  hsm.Config
		want error
	}{
		{"wrong PIN", hsm.Config{Module: h.Module, Label: h.Label, PIN: []byte("0000")}, hsm.ErrPIN},
		{"no such token", hsm.Config{Module: h.Module, Label: "absent", PIN: []byte(h.PIN)}, hsm.ErrTokenNotFound},
		{"no such module", hsm.Config{Module: "/nonexistent/libpkcs11.so", Label: h.Label, PIN: []byte(h.PIN)}, hsm.ErrModule},
	} {
		if _, err := hsm.Open(tc.cfg); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
}
