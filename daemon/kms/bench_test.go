package kms

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"kmsd/daemon/policy"
	"kmsd/wire/api"
)

// Benchmarks of the service's hot path beside raw AES-256-GCM (a
// precomputed AEAD and a counter nonce: the physical limit of one core) in
// the same run. Compare with benchstat; see the README for a table.

var benchSizes = []int{32, 4096}

func benchKey(b *testing.B) (*Service, string) {
	s, _ := testService(b)
	return s, mustKey(b, s)
}

func BenchmarkRawAESGCM(b *testing.B) {
	block, _ := aes.NewCipher(make([]byte, 32))
	g, _ := cipher.NewGCM(block)
	nonce := make([]byte, 12)
	aad := make([]byte, 46+2)
	for _, n := range benchSizes {
		pt := make([]byte, n)
		b.Run("size="+strconv.Itoa(n), func(b *testing.B) {
			b.SetBytes(int64(n))
			b.ReportAllocs()
			dst := make([]byte, 0, n+16)
			var ctr uint64
			for b.Loop() {
				ctr++
				binary.BigEndian.PutUint64(nonce[4:], ctr)
				dst = g.Seal(dst[:0], nonce, pt, aad)
			}
		})
	}
}

func BenchmarkEncrypt(b *testing.B) {
	s, id := benchKey(b)
	for _, n := range benchSizes {
		in := &api.EncryptInput{KeyId: id, Plaintext: make([]byte, n), EncryptionContext: map[string]string{"purpose": "bench"}}
		b.Run("size="+strconv.Itoa(n), func(b *testing.B) {
			b.SetBytes(int64(n))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Encrypt(ctx, in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkEncryptParallel(b *testing.B) {
	s, id := benchKey(b)
	in := &api.EncryptInput{KeyId: id, Plaintext: make([]byte, 32)}
	b.SetBytes(32)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.Encrypt(ctx, in); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkDecrypt(b *testing.B) {
	s, id := benchKey(b)
	for _, n := range benchSizes {
		ec := map[string]string{"purpose": "bench"}
		enc, err := s.Encrypt(ctx, &api.EncryptInput{KeyId: id, Plaintext: make([]byte, n), EncryptionContext: ec})
		if err != nil {
			b.Fatal(err)
		}
		in := &api.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: ec}
		b.Run("size="+strconv.Itoa(n), func(b *testing.B) {
			b.SetBytes(int64(n))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Decrypt(ctx, in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkGenerateDataKey(b *testing.B) {
	s, id := benchKey(b)
	for _, n := range []int32{32, 1024} {
		in := &api.GenerateDataKeyInput{KeyId: id, NumberOfBytes: api.Int32(n)}
		b.Run("size="+strconv.Itoa(int(n)), func(b *testing.B) {
			b.SetBytes(int64(n))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.GenerateDataKey(ctx, in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkKeyCount shows DescribeKey and Encrypt cost the same with
// 10,000 keys as with one.
func BenchmarkKeyCount(b *testing.B) {
	for _, n := range []int{1, 10_000} {
		s, _ := testService(b)
		var id string
		for range n {
			id = mustKey(b, s)
		}
		if err := s.CreateAlias(ctx, &api.AliasInput{AliasName: "alias/bench", TargetKeyId: id}); err != nil {
			b.Fatal(err)
		}
		b.Run("keys="+strconv.Itoa(n)+"/DescribeKey", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.DescribeKey(ctx, &api.DescribeKeyInput{KeyId: id}); err != nil {
					b.Fatal(err)
				}
			}
		})
		in := &api.EncryptInput{KeyId: "alias/bench", Plaintext: make([]byte, 32)}
		b.Run("keys="+strconv.Itoa(n)+"/Encrypt", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Encrypt(ctx, in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkAuthorization compares Encrypt by a non-root caller under the
// default policy with Encrypt under a 20-statement policy (the caller's
// allow has a condition on the encryption context) and 1,000 grants to
// other principals, in the same run.
func BenchmarkAuthorization(b *testing.B) {
	caller := policy.WithPrincipal(context.Background(), &policy.Principal{UID: 1000, GID: 1000, Groups: []uint32{10, 20}})
	ec := map[string]string{"tenant": "a", "app": "billing"}
	setups := []struct {
		name  string
		setup func(s *Service, id string)
	}{
		{"policy=default", func(*Service, string) {}},
		{"policy=20-statements/grants=1000", func(s *Service, id string) {
			var st []string
			for i := range 18 {
				st = append(st, fmt.Sprintf(`{"Sid":"s%d","Effect":"Allow","Principal":{"Kmsd":["uid:%d","gid:%d"]},"Action":["kms:Encrypt","kms:Decrypt","kms:Describe*"],"Resource":"*",
				  "Condition":{"StringEquals":{"kms:EncryptionContext:tenant":"t%d"}}}`, i, 2000+i, 3000+i, i))
			}
			st = append(st, `{"Sid":"caller","Effect":"Allow","Principal":{"Kmsd":["uid:1000","uid:0"]},"Action":"kms:*","Resource":"*",
			  "Condition":{"StringEquals":{"kms:EncryptionContext:tenant":["a","b"]},"ForAllValues:StringLike":{"kms:EncryptionContextKeys":["tenant","app*"]}}}`)
			st = append(st, `{"Sid":"deny","Effect":"Deny","Principal":"*","Action":"kms:Decrypt","Resource":"*","Condition":{"StringEquals":{"kms:EncryptionContext:class":"secret"}}}`)
			doc := `{"Version":"2012-10-17","Statement":[` + strings.Join(st, ",") + `]}`
			if err := s.PutKeyPolicy(ctx, &api.PutKeyPolicyInput{KeyId: id, Policy: doc, BypassPolicyLockoutSafetyCheck: true}); err != nil {
				b.Fatal(err)
			}
			for i := range 1000 {
				if _, err := s.CreateGrant(ctx, &api.CreateGrantInput{KeyId: id, GranteePrincipal: fmt.Sprintf("uid:%d", 5000+i),
					Operations: []string{"Encrypt", "Decrypt"}, Constraints: api.GrantConstraints{EncryptionContextSubset: map[string]string{"tenant": "z"}}}); err != nil {
					b.Fatal(err)
				}
			}
		}},
	}
	for _, c := range setups {
		s, _ := testService(b)
		id, err := s.CreateKey(caller, &api.CreateKeyInput{})
		if err != nil {
			b.Fatal(err)
		}
		c.setup(s, id.KeyMetadata.KeyId)
		in := &api.EncryptInput{KeyId: id.KeyMetadata.KeyId, Plaintext: make([]byte, 32), EncryptionContext: ec}
		if _, err := s.Encrypt(caller, in); err != nil {
			b.Fatalf("%s: %v", c.name, err)
		}
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Encrypt(caller, in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkGenerateDataKeyBatch is GenerateDataKey in batches of 256, as
// the socket serves them (each answer's blob sealed into a reused buffer):
// the per-key cost without a transport, where a system call per key
// (crypto/rand) shows.
func BenchmarkGenerateDataKeyBatch(b *testing.B) {
	s, id := benchKey(b)
	items := make([]api.GenerateDataKeyInput, 256)
	for i := range items {
		items[i] = api.GenerateDataKeyInput{KeyId: id, KeySpec: api.DataKeySpecAES256}
	}
	serveBatches(b, len(items), "ns/key", func(sink Sink) { s.GenerateDataKeyBatch(ctx, items, sink) })
}

// reuseSink seals each answer's field into one buffer it reuses.
type reuseSink struct {
	buf    []byte
	failed int
}

func (k *reuseSink) Answer(_ int, _ *Report, _ api.Message, f Fill) error {
	var err error
	k.buf, err = f.AppendTo(k.buf[:0])
	return err
}

func (k *reuseSink) Fail(int, *Report, error) { k.failed++ }

// BenchmarkEncryptBatch is Encrypt of 32 B in batches of 256, as the
// socket serves them, without a transport: the service's own cost per
// item, beside BenchmarkRawAESGCM.
func BenchmarkEncryptBatch(b *testing.B) {
	s, id := benchKey(b)
	items := make([]api.EncryptInput, 256)
	ec := map[string]string{"app": "bench"} // one map, as the decoder shares a context items repeat
	for i := range items {
		items[i] = api.EncryptInput{KeyId: id, Plaintext: make([]byte, 32), EncryptionContext: ec}
	}
	serveBatches(b, len(items), "ns/item", func(sink Sink) { s.EncryptBatch(ctx, items, sink) })
}

// serveBatches runs serve, a batch of n items, b.N times into one
// reuseSink, fails if an item failed, and reports the time per item as
// unit.
func serveBatches(b *testing.B, n int, unit string, serve func(Sink)) {
	sink := &reuseSink{}
	b.ReportAllocs()
	batches := 0
	for b.Loop() {
		serve(sink)
		batches++
	}
	if sink.failed != 0 {
		b.Fatalf("%d items failed", sink.failed)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(batches*n), unit)
}
