package kms

import (
	"context"
	"runtime"
	"sync"

	"kmsd/keystore/keyspec"
	"kmsd/wire/api"
)

// Making an RSA key takes a management worker from a tenth of a second
// (RSA_2048) to seconds (RSA_4096). So that one user's CreateKey or
// GenerateDataKeyPair of RSA keys cannot take every worker, an RSA key is
// made at most one at a time per user, and on at most half the processors
// at once; past that the request is ThrottlingException at once, as AWS
// answers past its request rate. Elliptic-curve, ML-DSA and HMAC keys take
// microseconds and pass freely.
type keygenGate struct {
	mu       sync.Mutex
	inFlight int
	perUID   map[uint32]bool
}

// rsaKeygenMost is how many RSA keys are made at once.
var rsaKeygenMost = max(1, runtime.GOMAXPROCS(0)/2)

// generate runs fn for the caller of ctx, through the gate when spec is
// an RSA spec.
func (g *keygenGate) generate(ctx context.Context, spec *keyspec.Spec, fn func() error) error {
	if !spec.IsRSA() {
		return fn()
	}
	p, err := principalOf(ctx)
	if err != nil {
		return err
	}
	g.mu.Lock()
	if g.perUID == nil {
		g.perUID = map[uint32]bool{}
	}
	if g.perUID[p.UID] || g.inFlight >= rsaKeygenMost {
		g.mu.Unlock()
		return errorf(api.CodeThrottling, "an RSA key is being made for you, or kmsd makes %d at once already: retry", rsaKeygenMost)
	}
	g.perUID[p.UID] = true
	g.inFlight++
	g.mu.Unlock()
	defer func() {
		g.mu.Lock()
		delete(g.perUID, p.UID)
		g.inFlight--
		g.mu.Unlock()
	}()
	return fn()
}
