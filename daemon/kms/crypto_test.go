package kms

import (
	"bytes"
	"strings"
	"sync"
	"testing"

	"kmsd/keystore"
	"kmsd/wire/api"
)

func TestEncryptDecrypt(t *testing.T) {
	s, _ := testService(t)
	id := mustKey(t, s)
	ec := map[string]string{"purpose": "test", "user": "ü"}
	for _, n := range []int{1, 32, MaxPlaintext} {
		pt := bytes.Repeat([]byte{'p'}, n)
		enc, err := s.Encrypt(ctx, &api.EncryptInput{KeyId: id, Plaintext: pt, EncryptionContext: ec})
		if err != nil {
			t.Fatal(err)
		}
		if enc.KeyId != testARNPrefix+"key/"+id || enc.EncryptionAlgorithm != api.AlgSymmetricDefault || len(enc.CiphertextBlob) != n+keystore.BlobOverhead {
			t.Fatalf("encrypt output %+v", enc)
		}
		dec, err := s.Decrypt(ctx, &api.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: map[string]string{"user": "ü", "purpose": "test"}})
		if err != nil || !bytes.Equal(dec.Plaintext, pt) || dec.KeyId != enc.KeyId || dec.KeyMaterialId != enc.KeyMaterialId {
			t.Fatalf("decrypt %+v %v", dec, err)
		}
	}
	blob := mustEncrypt(t, s, id, "secret", ec)
	other := mustKey(t, s)
	cases := []struct {
		name string
		in   api.DecryptInput
		code string
	}{
		{"right key id", api.DecryptInput{CiphertextBlob: blob, EncryptionContext: ec, KeyId: id}, ""},
		{"no context", api.DecryptInput{CiphertextBlob: blob}, api.CodeInvalidCiphertext},
		{"partial context", api.DecryptInput{CiphertextBlob: blob, EncryptionContext: map[string]string{"purpose": "test"}}, api.CodeInvalidCiphertext},
		{"other context", api.DecryptInput{CiphertextBlob: blob, EncryptionContext: map[string]string{"purpose": "test", "user": "u"}}, api.CodeInvalidCiphertext},
		{"other key id", api.DecryptInput{CiphertextBlob: blob, EncryptionContext: ec, KeyId: other}, api.CodeIncorrectKey},
		{"missing key id", api.DecryptInput{CiphertextBlob: blob, EncryptionContext: ec, KeyId: "alias/none"}, api.CodeNotFound},
		{"empty blob", api.DecryptInput{}, api.CodeValidation},
		{"huge blob", api.DecryptInput{CiphertextBlob: make([]byte, MaxCiphertextBlob+1)}, api.CodeValidation},
		{"garbage", api.DecryptInput{CiphertextBlob: []byte("not a blob at all, not a blob at all, not a blob at all, not a blob")}, api.CodeInvalidCiphertext},
		{"truncated", api.DecryptInput{CiphertextBlob: blob[:len(blob)-1], EncryptionContext: ec}, api.CodeInvalidCiphertext},
		{"RSA algorithm", api.DecryptInput{CiphertextBlob: blob, KeyId: id, EncryptionAlgorithm: "RSAES_OAEP_SHA_256"}, api.CodeInvalidKeyUsage},
		{"RSA algorithm without KeyId", api.DecryptInput{CiphertextBlob: blob, EncryptionAlgorithm: "RSAES_OAEP_SHA_256"}, api.CodeValidation},
		{"RSA algorithm with a context", api.DecryptInput{CiphertextBlob: blob, KeyId: id, EncryptionContext: ec, EncryptionAlgorithm: "RSAES_OAEP_SHA_256"}, api.CodeValidation},
		{"bad context", api.DecryptInput{CiphertextBlob: blob, EncryptionContext: map[string]string{"": "x"}}, api.CodeValidation},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := s.Decrypt(ctx, &c.in)
			wantCode(t, err, c.code)
		})
	}
	// Every flipped bit is InvalidCiphertextException, except in the key id,
	// which then names a key that does not exist.
	for i := range blob {
		bad := bytes.Clone(blob)
		bad[i] ^= 0x80
		_, err := s.Decrypt(ctx, &api.DecryptInput{CiphertextBlob: bad, EncryptionContext: ec})
		want := api.CodeInvalidCiphertext
		if i >= 2 && i < 18 {
			want = api.CodeNotFound
		}
		if api.CodeOf(err) != want {
			t.Fatalf("byte %d flipped: %v", i, err)
		}
	}
	for _, in := range []api.EncryptInput{
		{KeyId: id},
		{KeyId: id, Plaintext: make([]byte, MaxPlaintext+1)},
		{KeyId: id, Plaintext: []byte("x"), EncryptionContext: map[string]string{"k": "\xff"}},
	} {
		_, err := s.Encrypt(ctx, &in)
		wantCode(t, err, api.CodeValidation)
	}
}

func TestErrorsHoldNoSecrets(t *testing.T) {
	s, _ := testService(t)
	id := mustKey(t, s)
	secret := "TOP-SECRET-PLAINTEXT"
	blob := mustEncrypt(t, s, id, secret, map[string]string{"a": "b"})
	_, err := s.Decrypt(ctx, &api.DecryptInput{CiphertextBlob: blob})
	_, err2 := s.Encrypt(ctx, &api.EncryptInput{KeyId: "alias/x", Plaintext: []byte(secret)})
	for _, e := range []error{err, err2} {
		if e == nil || strings.Contains(e.Error(), secret) || strings.Contains(e.Error(), string(blob[46:])) {
			t.Fatalf("error %v", e)
		}
	}
}

func TestReEncrypt(t *testing.T) {
	s, _ := testService(t)
	a, b := mustKey(t, s), mustKey(t, s)
	blob := mustEncrypt(t, s, a, "move me", map[string]string{"v": "1"})
	out, err := s.ReEncrypt(ctx, &api.ReEncryptInput{
		CiphertextBlob: blob, SourceEncryptionContext: map[string]string{"v": "1"},
		DestinationKeyId: b, DestinationEncryptionContext: map[string]string{"v": "2"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if out.SourceKeyId != testARNPrefix+"key/"+a || out.KeyId != testARNPrefix+"key/"+b || out.SourceKeyMaterialId == "" || out.DestinationKeyMaterialId == "" {
		t.Fatalf("output %+v", out)
	}
	dec, err := s.Decrypt(ctx, &api.DecryptInput{CiphertextBlob: out.CiphertextBlob, EncryptionContext: map[string]string{"v": "2"}})
	if err != nil || string(dec.Plaintext) != "move me" || dec.KeyId != out.KeyId {
		t.Fatalf("decrypt re-encrypted: %v %v", dec, err)
	}
	_, err = s.ReEncrypt(ctx, &api.ReEncryptInput{CiphertextBlob: blob, DestinationKeyId: b})
	wantCode(t, err, api.CodeInvalidCiphertext)
	_, err = s.ReEncrypt(ctx, &api.ReEncryptInput{CiphertextBlob: blob, SourceEncryptionContext: map[string]string{"v": "1"}, SourceKeyId: b, DestinationKeyId: b})
	wantCode(t, err, api.CodeIncorrectKey)
	_, err = s.ReEncrypt(ctx, &api.ReEncryptInput{CiphertextBlob: blob, SourceEncryptionContext: map[string]string{"v": "1"}})
	wantCode(t, err, api.CodeValidation)
	wantCode(t, s.DisableKey(ctx, &api.KeyIDInput{KeyId: b}), "")
	_, err = s.ReEncrypt(ctx, &api.ReEncryptInput{CiphertextBlob: blob, SourceEncryptionContext: map[string]string{"v": "1"}, DestinationKeyId: b})
	wantCode(t, err, api.CodeDisabled)
}

func TestGenerateDataKey(t *testing.T) {
	s, _ := testService(t)
	id := mustKey(t, s)
	ec := map[string]string{"file": "a.txt"}
	for _, c := range []struct {
		in   api.GenerateDataKeyInput
		size int
		code string
	}{
		{api.GenerateDataKeyInput{KeySpec: api.DataKeySpecAES256}, 32, ""},
		{api.GenerateDataKeyInput{KeySpec: api.DataKeySpecAES128}, 16, ""},
		{api.GenerateDataKeyInput{NumberOfBytes: api.Int32(1)}, 1, ""},
		{api.GenerateDataKeyInput{NumberOfBytes: api.Int32(1024)}, 1024, ""},
		{api.GenerateDataKeyInput{NumberOfBytes: api.Int32(1025)}, 0, api.CodeValidation},
		{api.GenerateDataKeyInput{NumberOfBytes: api.Int32(-1)}, 0, api.CodeValidation},
		{api.GenerateDataKeyInput{NumberOfBytes: api.Int32(0)}, 0, api.CodeValidation},
		{api.GenerateDataKeyInput{}, 0, api.CodeValidation},
		{api.GenerateDataKeyInput{KeySpec: "AES_512"}, 0, api.CodeValidation},
		{api.GenerateDataKeyInput{KeySpec: api.DataKeySpecAES256, NumberOfBytes: api.Int32(32)}, 0, api.CodeValidation},
	} {
		in := c.in
		in.KeyId, in.EncryptionContext = testARNPrefix+"key/"+id, ec
		out, err := s.GenerateDataKey(ctx, &in)
		wantCode(t, err, c.code)
		if err != nil {
			continue
		}
		if len(out.Plaintext) != c.size || bytes.Equal(out.Plaintext, make([]byte, c.size)) && c.size > 8 {
			t.Fatalf("plaintext of %d bytes: %x", c.size, out.Plaintext)
		}
		dec, err := s.Decrypt(ctx, &api.DecryptInput{CiphertextBlob: out.CiphertextBlob, EncryptionContext: ec})
		if err != nil || !bytes.Equal(dec.Plaintext, out.Plaintext) {
			t.Fatalf("data key blob does not decrypt to the data key: %v", err)
		}
		wp, err := s.GenerateDataKeyWithoutPlaintext(ctx, &in)
		if err != nil || wp.Plaintext != nil {
			t.Fatalf("without plaintext: %+v %v", wp, err)
		}
		dec, err = s.Decrypt(ctx, &api.DecryptInput{CiphertextBlob: wp.CiphertextBlob, EncryptionContext: ec})
		if err != nil || len(dec.Plaintext) != c.size {
			t.Fatalf("without-plaintext blob: %v", err)
		}
	}
	a, _ := s.GenerateDataKey(ctx, &api.GenerateDataKeyInput{KeyId: id, KeySpec: api.DataKeySpecAES256})
	b, _ := s.GenerateDataKey(ctx, &api.GenerateDataKeyInput{KeyId: id, KeySpec: api.DataKeySpecAES256})
	if bytes.Equal(a.Plaintext, b.Plaintext) {
		t.Fatal("two data keys are equal")
	}
}

func TestGenerateRandom(t *testing.T) {
	s, _ := testService(t)
	for _, n := range []int32{0, -5, 1025} {
		_, err := s.GenerateRandom(ctx, &api.GenerateRandomInput{NumberOfBytes: api.Int32(n)})
		wantCode(t, err, api.CodeValidation)
	}
	out, err := s.GenerateRandom(ctx, &api.GenerateRandomInput{NumberOfBytes: api.Int32(1024)})
	if err != nil || len(out.Plaintext) != 1024 || bytes.Equal(out.Plaintext[:64], make([]byte, 64)) {
		t.Fatalf("%v", err)
	}
}

// TestSuitesInteroperate forces each suite in turn on the same state: blobs
// sealed by either decrypt under the other.
func TestSuitesInteroperate(t *testing.T) {
	dir := t.TempDir()
	open := func(alg keystore.Alg) *Service {
		s, err := openDir(t, dir, func(c *Config) { c.Suite = alg })
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	s := open(keystore.AlgXChaCha20Poly1305)
	id := mustKey(t, s)
	chacha := mustEncrypt(t, s, id, "from xchacha", nil)
	s.Close()
	s = open(keystore.AlgXAES256GCM)
	defer s.Close()
	xaes := mustEncrypt(t, s, id, "from xaes", nil)
	if chacha[1] != byte(keystore.AlgXChaCha20Poly1305) || xaes[1] != byte(keystore.AlgXAES256GCM) {
		t.Fatalf("algorithm bytes %x %x", chacha[1], xaes[1])
	}
	for want, blob := range map[string][]byte{"from xchacha": chacha, "from xaes": xaes} {
		out, err := s.Decrypt(ctx, &api.DecryptInput{CiphertextBlob: blob})
		if err != nil || string(out.Plaintext) != want {
			t.Fatalf("%s: %v", want, err)
		}
	}
}

// TestConcurrentCryptoAndManagement runs encrypt/decrypt against disable,
// enable and rotation at once: under -race this checks the locking, and
// every blob that Encrypt returned must decrypt.
func TestConcurrentCryptoAndManagement(t *testing.T) {
	s, _ := testService(t)
	id := mustKey(t, s)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	blobs := make(chan []byte, 1<<16)
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Each worker runs until stop, and stops only after a success
			// (the key ends Enabled), within a bounded number of calls.
			for i := 0; i < 1<<14; i++ {
				out, err := s.Encrypt(ctx, &api.EncryptInput{KeyId: id, Plaintext: []byte("concurrent")})
				if err != nil {
					if api.CodeOf(err) != api.CodeDisabled {
						t.Errorf("encrypt: %v", err)
						return
					}
					continue
				}
				blobs <- out.CiphertextBlob
				select {
				case <-stop:
					return
				default:
				}
			}
		}()
	}
	for i := 0; i < 10; i++ {
		s.DisableKey(ctx, &api.KeyIDInput{KeyId: id})
		s.EnableKey(ctx, &api.KeyIDInput{KeyId: id})
		if _, err := s.RotateKeyOnDemand(ctx, &api.KeyIDInput{KeyId: id}); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	close(blobs)
	n := 0
	for b := range blobs {
		out, err := s.Decrypt(ctx, &api.DecryptInput{CiphertextBlob: b})
		if err != nil || string(out.Plaintext) != "concurrent" {
			t.Fatalf("blob %d: %v", n, err)
		}
		n++
	}
	if n < 4 {
		t.Fatalf("only %d encryptions succeeded", n)
	}
}

// TestCryptoNeverTouchesStore closes the Badger store under a running
// service: crypto on keys already loaded must go on working, management
// must fail with KMSInternalException.
func TestCryptoNeverTouchesStore(t *testing.T) {
	s, _ := testService(t)
	id := mustKey(t, s)
	s.RotateKeyOnDemand(ctx, &api.KeyIDInput{KeyId: id})
	old := mustEncrypt(t, s, id, "before", nil)
	// Drop the unsealed cache too, so first use after this unseals from memory.
	e := s.lookup(mustParse(t, id))
	e.mu.Lock()
	e.wipe()
	e.mu.Unlock()
	if err := s.store.Close(); err != nil {
		t.Fatal(err)
	}
	blob := mustEncrypt(t, s, id, "after", map[string]string{"a": "b"})
	for want, b := range map[string][]byte{"before": old, "after": blob} {
		var ec map[string]string
		if want == "after" {
			ec = map[string]string{"a": "b"}
		}
		if out, err := s.Decrypt(ctx, &api.DecryptInput{CiphertextBlob: b, EncryptionContext: ec}); err != nil || string(out.Plaintext) != want {
			t.Fatalf("%s: %v", want, err)
		}
	}
	if _, err := s.GenerateDataKey(ctx, &api.GenerateDataKeyInput{KeyId: id, KeySpec: api.DataKeySpecAES256}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DescribeKey(ctx, &api.DescribeKeyInput{KeyId: id}); err != nil {
		t.Fatal(err)
	}
	_, err := s.CreateKey(ctx, &api.CreateKeyInput{})
	wantCode(t, err, api.CodeInternal)
	if msg := err.Error(); strings.Contains(msg, "badger") || strings.Contains(msg, "closed") {
		t.Fatalf("internal detail leaked to the caller: %s", msg)
	}
}
