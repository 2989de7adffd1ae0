// Package hsm keeps keys in a PKCS#11 token (a hardware HSM, a YubiHSM, a
// TPM-backed token, SoftHSM in tests) for kmsd's custom key stores: AES-256
// keys generated in the token, sensitive and not extractable, used there
// for AES-256-GCM, so that their material never exists in kmsd's memory.
//
// [Open] loads the token's module (github.com/miekg/pkcs11, which needs
// cgo), finds the token by label or serial, and logs in with its PIN. A
// Token keeps a small pool of sessions (PKCS#11 sessions are not safe for
// concurrent use) and the handles of the keys it has used. Built without
// cgo (CGO_ENABLED=0), Open fails with [ErrNoCgo] and kmsd runs without
// custom key stores.
//
// Errors say which of AWS's ConnectionErrorCodes applies: [ErrPIN]
// (INVALID_CREDENTIALS), [ErrTokenNotFound] (CLUSTER_NOT_FOUND, the
// nearest), [ErrModule] and anything else (INTERNAL_ERROR).
package hsm

import "errors"

// Config names a token and how to log in.
type Config struct {
	Module string // the PKCS#11 module (a shared library)
	// Label or Serial picks the token (Serial when both are given).
	Label, Serial string
	PIN           []byte // the user PIN; zeroed by Open
}

// Errors of Open.
var (
	ErrNoCgo         = errors.New("kmsd was built without cgo (CGO_ENABLED=0), so it cannot load a PKCS#11 module: build it with cgo to use custom key stores")
	ErrModule        = errors.New("the PKCS#11 module does not load")
	ErrTokenNotFound = errors.New("no token with that label or serial")
	ErrPIN           = errors.New("the token refused the PIN")
	ErrNoKey         = errors.New("the token has no such key")
)

// sessions is how many sessions a Token keeps open at most.
const sessions = 8
