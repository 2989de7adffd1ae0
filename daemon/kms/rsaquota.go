package kms

import (
	"runtime"
	"sync"
	"time"

	"kmsd/keystore/keyspec"
	"kmsd/wire/api"
)

// An RSA private-key operation (Sign, Decrypt, ReEncrypt from an RSA
// ciphertext) takes a crypto worker a millisecond (RSA_2048) to several
// (RSA_4096), a thousand times an Encrypt; a batch of them would hold
// every worker for seconds while other users' requests queue behind it.
// As AWS KMS has a request quota for RSA operations, kmsd gives each user
// a budget of CPU time for them: a token bucket that refills at half the
// processors (one CPU-second a second per two processors) and holds one
// such second of burst. An operation past it is ThrottlingException at
// once, which costs nothing; the caller retries with backoff. Root is not
// charged, as the costly gate of package pipeline holds root to the
// machine's total only: the administrator (and the benchmark, run as
// root) may use every processor.
type rsaQuota struct {
	mu    sync.Mutex
	rate  float64 // CPU-seconds a second, per user
	burst float64 // CPU-seconds a user may spend at once
	users map[uint32]*rsaBucket
	now   func() time.Time
}

type rsaBucket struct {
	tokens float64
	last   time.Time
}

// maxRSAUsers bounds the buckets kept; past it, all start afresh (full).
const maxRSAUsers = 4096

func newRSAQuota() *rsaQuota {
	rate := max(0.5, float64(runtime.GOMAXPROCS(0))/2)
	return &rsaQuota{rate: rate, burst: rate, users: map[uint32]*rsaBucket{}, now: time.Now}
}

// rsaCost is an estimate of one private-key operation's CPU time by
// modulus, on the slow side (measured on a 2-vCPU VM: RSA_2048 PSS signs
// in 0.9 ms; the cost grows with the cube of the size).
func rsaCost(s *keyspec.Spec) float64 {
	switch s.Name {
	case "RSA_2048":
		return 0.001
	case "RSA_3072":
		return 0.003
	}
	return 0.007
}

// take charges uid one private-key operation of a key of spec s, or
// reports why not.
func (q *rsaQuota) take(uid uint32, s *keyspec.Spec) error {
	if uid == 0 {
		return nil
	}
	cost := rsaCost(s)
	now := q.now()
	q.mu.Lock()
	defer q.mu.Unlock()
	b := q.users[uid]
	if b == nil {
		if len(q.users) >= maxRSAUsers {
			clear(q.users)
		}
		b = &rsaBucket{tokens: q.burst, last: now}
		q.users[uid] = b
	}
	b.tokens = min(q.burst, b.tokens+now.Sub(b.last).Seconds()*q.rate)
	b.last = now
	if b.tokens < cost {
		return errorf(api.CodeThrottling, "uid:%d has used its share of RSA private-key operations (%.1f CPU-seconds a second): retry with backoff", uid, q.rate)
	}
	b.tokens -= cost
	return nil
}
