package kms

import (
	"strings"
	"testing"
	"time"

	"kmsd/daemon/policy"
	"kmsd/keystore/keyspec"
	"kmsd/wire/api"
)

// TestRSAKeygenOneAtATime: while an RSA key is being made for a user,
// another RSA key for the same user is ThrottlingException at once; an
// elliptic-curve key and another user's RSA key are made meanwhile.
func TestRSAKeygenOneAtATime(t *testing.T) {
	s := authService(t)
	// Alice's RSA key in the making: the gate held until release closes.
	started, release, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		done <- s.keygen.generate(alice, keyspec.Lookup("RSA_4096"), func() error {
			close(started)
			<-release
			return nil
		})
	}()
	<-started
	defer func() {
		select {
		case <-release:
		default:
			close(release)
		}
	}()
	_, err := s.CreateKey(alice, &api.CreateKeyInput{KeySpec: "RSA_2048", KeyUsage: "ENCRYPT_DECRYPT"})
	wantCode(t, err, api.CodeThrottling)
	_, err = s.GenerateDataKeyPair(alice, &api.GenerateDataKeyPairInput{KeyId: keyOf(t, s, alice), KeyPairSpec: "RSA_2048"})
	wantCode(t, err, api.CodeThrottling)
	if _, err := s.CreateKey(alice, &api.CreateKeyInput{KeySpec: "ECC_NIST_P256", KeyUsage: "SIGN_VERIFY"}); err != nil {
		t.Fatalf("an ECC key while an RSA key is made: %v", err)
	}
	if rsaKeygenMost > 1 {
		if _, err := s.CreateKey(bob, &api.CreateKeyInput{KeySpec: "RSA_2048", KeyUsage: "SIGN_VERIFY"}); err != nil {
			t.Fatalf("another user's RSA key: %v", err)
		}
	} else { // one RSA key at a time on this machine: bob waits for alice's
		_, err := s.CreateKey(bob, &api.CreateKeyInput{KeySpec: "RSA_2048", KeyUsage: "SIGN_VERIFY"})
		wantCode(t, err, api.CodeThrottling)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateKey(alice, &api.CreateKeyInput{KeySpec: "RSA_2048", KeyUsage: "SIGN_VERIFY"}); err != nil {
		t.Fatalf("after the first: %v", err)
	}
}

// TestRSAPrivateOpsQuota: each user's RSA private-key operations draw on
// a CPU-time bucket; past it they are ThrottlingException at once, the
// public-key operations (Verify, Encrypt) and other keys are not charged,
// another user has a bucket of its own, and time refills it.
func TestRSAPrivateOpsQuota(t *testing.T) {
	s := authService(t)
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	s.rsaQuota = &rsaQuota{rate: 0.002, burst: 0.003, users: map[uint32]*rsaBucket{}, now: func() time.Time { return now }}
	signer := specKey(t, s, alice, "RSA_2048", "SIGN_VERIFY").KeyId
	ec := specKey(t, s, alice, "ECC_NIST_P256", "SIGN_VERIFY").KeyId
	enc := specKey(t, s, alice, "RSA_2048", "ENCRYPT_DECRYPT").KeyId
	for _, uid := range []string{"uid:1001", "uid:0"} {
		if _, err := s.CreateGrant(alice, &api.CreateGrantInput{KeyId: signer, GranteePrincipal: uid, Operations: []string{"Sign"}}); err != nil {
			t.Fatal(err)
		}
	}
	in := api.SignInput{KeyId: signer, Message: []byte("m"), SigningAlgorithm: "RSASSA_PSS_SHA_256"}
	var sink collect
	s.SignBatch(alice, []api.SignInput{in, in, in, in, in}, &sink)
	if got := strings.Join(sink.codes, ","); got != ",,,ThrottlingException,ThrottlingException" {
		t.Fatalf("a batch of 5 with room for 3: %s", got)
	}
	sig, _ := s.Sign(bob, &in) // bob's own bucket
	if sig == nil {
		t.Fatal("another user is throttled by alice's use")
	}
	if _, err := s.Verify(alice, &api.VerifyInput{KeyId: signer, Message: []byte("m"), Signature: sig.Signature, SigningAlgorithm: "RSASSA_PSS_SHA_256"}); err != nil {
		t.Fatalf("Verify is a public-key operation, not charged: %v", err)
	}
	if _, err := s.Sign(alice, &api.SignInput{KeyId: ec, Message: []byte("m"), SigningAlgorithm: "ECDSA_SHA_256"}); err != nil {
		t.Fatalf("an ECDSA key is not charged: %v", err)
	}
	ct, err := s.Encrypt(alice, &api.EncryptInput{KeyId: enc, Plaintext: []byte("m"), EncryptionAlgorithm: "RSAES_OAEP_SHA_256"})
	if err != nil {
		t.Fatalf("RSA Encrypt is a public-key operation: %v", err)
	}
	_, err = s.Decrypt(alice, &api.DecryptInput{KeyId: enc, CiphertextBlob: ct.CiphertextBlob, EncryptionAlgorithm: "RSAES_OAEP_SHA_256"})
	wantCode(t, err, api.CodeThrottling)
	now = now.Add(time.Second) // 0.002 CPU-seconds more: two operations
	for range 2 {
		if _, err := s.Sign(alice, &in); err != nil {
			t.Fatalf("after the refill: %v", err)
		}
	}
	_, err = s.Sign(alice, &in)
	wantCode(t, err, api.CodeThrottling)
	root := as(&policy.Principal{UID: 0, Source: "test"})
	for range 5 {
		if _, err := s.Sign(root, &in); err != nil {
			t.Fatalf("root is not charged: %v", err)
		}
	}
}

// collect is a Sink that keeps each item's exception code ("" for an
// answer).
type collect struct{ codes []string }

func (c *collect) Answer(int, *Report, api.Message, Fill) error {
	c.codes = append(c.codes, "")
	return nil
}
func (c *collect) Fail(_ int, _ *Report, err error) { c.codes = append(c.codes, api.CodeOf(err)) }
