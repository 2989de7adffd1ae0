package kms

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"kmsd/wire"
	"strconv"
	"testing"
)

// Benchmarks of the service's hot path beside raw AES-256-GCM (a
// precomputed AEAD and a counter nonce: the physical limit of one core) in
// the same run. Compare with benchstat; see the README for a table.

var benchSizes = []int{32, 4096}

func benchKey(b *testing.B) (*Service, string) {
	s, _ := testService(b, fast)
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
		in := &wire.EncryptInput{KeyId: id, Plaintext: make([]byte, n), EncryptionContext: map[string]string{"purpose": "bench"}}
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
	in := &wire.EncryptInput{KeyId: id, Plaintext: make([]byte, 32)}
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
		enc, err := s.Encrypt(ctx, &wire.EncryptInput{KeyId: id, Plaintext: make([]byte, n), EncryptionContext: ec})
		if err != nil {
			b.Fatal(err)
		}
		in := &wire.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: ec}
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
		in := &wire.GenerateDataKeyInput{KeyId: id, NumberOfBytes: n}
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
		s, _ := testService(b, fast)
		var id string
		for range n {
			id = mustKey(b, s)
		}
		if err := s.CreateAlias(ctx, &wire.AliasInput{AliasName: "alias/bench", TargetKeyId: id}); err != nil {
			b.Fatal(err)
		}
		b.Run("keys="+strconv.Itoa(n)+"/DescribeKey", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.DescribeKey(ctx, &wire.DescribeKeyInput{KeyId: id}); err != nil {
					b.Fatal(err)
				}
			}
		})
		in := &wire.EncryptInput{KeyId: "alias/bench", Plaintext: make([]byte, 32)}
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
