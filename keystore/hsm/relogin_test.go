//go:build cgo

package hsm_test

import (
	"errors"
	"testing"

	"kmsd/internal/softhsm"
	"kmsd/keystore/hsm"
)

// TestWrongPINAfterClose: a token closed logs out, so a later login with
// a wrong PIN is refused rather than riding on the earlier one.
func TestWrongPINAfterClose(t *testing.T) {
	h := softhsm.Require(t)
	tok, err := hsm.Open(hsm.Config{Module: h.Module, Label: h.Label, PIN: []byte(h.PIN)})
	if err != nil {
		t.Fatal(err)
	}
	tok.GenerateKey("relogin")
	tok.HasKey("relogin")
	tok.Close()
	if _, err := hsm.Open(hsm.Config{Module: h.Module, Label: h.Label, PIN: []byte("0000")}); !errors.Is(err, hsm.ErrPIN) {
		t.Errorf("a wrong PIN after a close: %v", err)
	}
}
