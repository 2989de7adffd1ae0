package kms

import (
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"kmsd/wire/api"
)

// sealed is a Sink that writes each answer's field as the socket's does
// (Fill.AppendTo, which seals or opens under the groups' hold) and keeps
// the blobs and the failures' codes.
type sealed struct {
	blobs [][]byte
	codes map[string]int
}

func (k *sealed) Answer(_ int, _ *Report, _ api.Message, f Fill) error {
	b, err := f.AppendTo(make([]byte, 0, f.Len()))
	if err != nil {
		return err
	}
	if len(b) != f.Len() {
		return errorf(api.CodeInternal, "filled %d bytes of %d", len(b), f.Len())
	}
	if f.seal != nil {
		k.blobs = append(k.blobs, b)
	}
	return nil
}

func (k *sealed) Fail(_ int, _ *Report, err error) { k.codes[api.CodeOf(err)]++ }

// TestBatchHoldAgainstWriters runs batches whose items switch between
// groups on one key (two contexts, an RSA algorithm on a symmetric key,
// ReEncrypt from the key to itself) while another goroutine disables,
// enables and rotates it. The groups hold the key's read lock across
// runs of items; a second read lock taken by the same goroutine while a
// writer waits would hang here, and a seal after the hold was let go
// would show under -race. Every blob made must open.
func TestBatchHoldAgainstWriters(t *testing.T) {
	s, _ := testService(t)
	id := mustKey(t, s)
	blob := mustEncrypt(t, s, id, "source", nil)
	a, b := map[string]string{"ctx": "a"}, map[string]string{"ctx": "b"}
	var enc []api.EncryptInput
	var re []api.ReEncryptInput
	for i := range 3 * holdRun {
		ec := a
		if i%7 == 6 {
			ec = b
		}
		in := api.EncryptInput{KeyId: id, Plaintext: []byte("held run"), EncryptionContext: ec}
		if i%29 == 28 {
			in.EncryptionAlgorithm, in.EncryptionContext = "RSAES_OAEP_SHA_256", nil // RSA binds no context
		}
		enc = append(enc, in)
		re = append(re, api.ReEncryptInput{CiphertextBlob: blob, DestinationKeyId: id, DestinationEncryptionContext: ec})
	}

	stop := make(chan struct{})
	var writer sync.WaitGroup
	writer.Go(func() {
		for {
			select {
			case <-stop:
				s.EnableKey(ctx, &api.KeyIDInput{KeyId: id})
				return
			default:
			}
			s.DisableKey(ctx, &api.KeyIDInput{KeyId: id})
			s.EnableKey(ctx, &api.KeyIDInput{KeyId: id})
			if _, err := s.RotateKeyOnDemand(ctx, &api.KeyIDInput{KeyId: id}); err != nil && api.CodeOf(err) != api.CodeLimitExceeded {
				t.Errorf("rotate: %v", err)
			}
		}
	})

	done := make(chan *sealed, 4)
	var callers sync.WaitGroup
	for range 4 {
		callers.Go(func() {
			k := &sealed{codes: map[string]int{}}
			for range 20 {
				s.EncryptBatch(ctx, enc, k)
				s.ReEncryptBatch(ctx, re, k)
				s.GenerateDataKeyBatch(ctx, []api.GenerateDataKeyInput{{KeyId: id, KeySpec: api.DataKeySpecAES256, EncryptionContext: a}, {KeyId: id, KeySpec: api.DataKeySpecAES256, EncryptionContext: b}}, k)
			}
			done <- k
		})
	}
	finished := make(chan struct{})
	go func() { callers.Wait(); close(finished) }()
	select {
	case <-finished:
	case <-time.After(time.Minute):
		// Not t.Fatal: the service's cleanup would wait on the same lock.
		buf := make([]byte, 1<<20)
		panic(fmt.Sprintf("batches did not finish: a read lock taken twice behind a waiting writer?\n%s", buf[:runtime.Stack(buf, true)]))
	}
	close(stop)
	writer.Wait()
	close(done)

	n := 0
	for k := range done {
		for code := range k.codes {
			switch code {
			case api.CodeDisabled, api.CodeInvalidKeyUsage:
			default:
				t.Errorf("unexpected failure %s (%d items)", code, k.codes[code])
			}
		}
		for _, blob := range k.blobs {
			if _, err := s.Decrypt(ctx, &api.DecryptInput{CiphertextBlob: blob, EncryptionContext: a}); err == nil {
				n++
				continue
			}
			if _, err := s.Decrypt(ctx, &api.DecryptInput{CiphertextBlob: blob, EncryptionContext: b}); err != nil {
				t.Fatalf("a blob sealed in a held run does not open: %v", err)
			}
			n++
		}
	}
	if n == 0 {
		t.Fatal("no item was sealed")
	}
	t.Logf("%d blobs sealed and opened", n)
}
