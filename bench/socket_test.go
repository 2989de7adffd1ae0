package bench

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"kmsd/keystore"
	"kmsd/wire"
)

var ctx = context.Background()

// BenchmarkRawSeal is the crypto limit: kmsd's blob seal in process
// (XAES-256-GCM with the cached epoch), and plain AES-256-GCM.
func BenchmarkRawSeal(b *testing.B) {
	m, _, err := keystore.GenerateMaterial(1)
	if err != nil {
		b.Fatal(err)
	}
	block, _ := aes.NewCipher(make([]byte, 32))
	gcm, _ := cipher.NewGCM(block)
	id := keystore.NewKeyID()
	for _, n := range []int{32, 1024, 4096} {
		pt := make([]byte, n)
		b.Run("XAES/size="+strconv.Itoa(n), func(b *testing.B) {
			b.SetBytes(int64(n))
			b.ReportAllocs()
			var dst []byte
			for b.Loop() {
				dst, _ = keystore.SealBlob(dst[:0], m, keystore.AlgXAES256GCM, id, nil, pt)
			}
			opsPerSec(b, b.N)
		})
		b.Run("AES-GCM/size="+strconv.Itoa(n), func(b *testing.B) {
			b.SetBytes(int64(n))
			nonce := make([]byte, 12)
			var dst []byte
			for b.Loop() {
				dst = gcm.Seal(dst[:0], nonce, pt, nil)
			}
			opsPerSec(b, b.N)
		})
	}
}

// BenchmarkSocketEcho is the transport limit: one synchronous round trip
// of an Encrypt-sized request frame and response frame over a Unix socket,
// to a server that only echoes.
func BenchmarkSocketEcho(b *testing.B) {
	dir, _ := os.MkdirTemp("", "echo")
	defer os.RemoveAll(dir)
	ln, err := net.Listen("unix", filepath.Join(dir, "s"))
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				buf := make([]byte, 1<<16)
				for {
					body, err := wire.ReadFrame(c, buf, wire.MaxFrame)
					if err != nil {
						return
					}
					out := wire.AppendFrameHeader(nil)
					out = append(out, body...)
					wire.FinishFrame(out, 0)
					if _, err := c.Write(out); err != nil {
						return
					}
				}
			}()
		}
	}()
	for _, n := range []int{32, 4096} {
		frame, _ := wire.AppendRequest(nil, 1, wire.OpEncrypt, &wire.EncryptInput{KeyId: "1234abcd-12ab-44cd-96ef-1234567890ab", Plaintext: make([]byte, n)})
		b.Run("size="+strconv.Itoa(n), func(b *testing.B) {
			c, err := net.Dial("unix", ln.Addr().String())
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			b.SetBytes(int64(n))
			lat := make(latencies, 0, 1<<16)
			buf := make([]byte, len(frame))
			for b.Loop() {
				t := time.Now()
				c.Write(frame)
				if _, err := io.ReadFull(c, buf); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t))
			}
			lat.report(b)
			opsPerSec(b, b.N)
		})
	}
}

// BenchmarkEncryptSync is one synchronous caller: each Encrypt waits for
// its answer.
func BenchmarkEncryptSync(b *testing.B) {
	_, c, key := daemon(b)
	for _, n := range []int{32, 4096} {
		in := &wire.EncryptInput{KeyId: key, Plaintext: make([]byte, n)}
		b.Run("size="+strconv.Itoa(n), func(b *testing.B) {
			b.SetBytes(int64(n))
			lat := make(latencies, 0, 1<<16)
			for b.Loop() {
				t := time.Now()
				if _, err := c.Encrypt(ctx, in); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t))
			}
			lat.report(b)
			opsPerSec(b, b.N)
		})
	}
}

// BenchmarkEncryptConcurrent is 64 goroutines calling Encrypt on one
// client: the client coalesces them into batch frames.
func BenchmarkEncryptConcurrent(b *testing.B) {
	_, c, key := daemon(b)
	in := &wire.EncryptInput{KeyId: key, Plaintext: make([]byte, 32)}
	b.Run("callers=64/size=32", func(b *testing.B) {
		b.SetBytes(32)
		var mu sync.Mutex
		var all latencies
		b.SetParallelism(64 / max(1, runtimeProcs()))
		b.RunParallel(func(pb *testing.PB) {
			lat := make(latencies, 0, 4096)
			for pb.Next() {
				t := time.Now()
				if _, err := c.Encrypt(ctx, in); err != nil {
					b.Error(err)
					return
				}
				lat = append(lat, time.Since(t))
			}
			mu.Lock()
			all = append(all, lat...)
			mu.Unlock()
		})
		all.report(b)
		opsPerSec(b, b.N)
	})
}

// BenchmarkEncryptBatch sends explicit batches; each iteration is one
// batch, and items/s counts the items.
func BenchmarkEncryptBatch(b *testing.B) {
	_, c, key := daemon(b)
	for _, n := range []int{256} {
		items := make([]*wire.EncryptInput, n)
		for i := range items {
			items[i] = &wire.EncryptInput{KeyId: key, Plaintext: make([]byte, 32)}
		}
		b.Run("items="+strconv.Itoa(n)+"/size=32", func(b *testing.B) {
			b.SetBytes(int64(32 * n))
			for b.Loop() {
				res, err := c.EncryptBatch(ctx, items)
				if err != nil || res[n-1].Err != nil {
					b.Fatal(err, res[n-1].Err)
				}
			}
			b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "items/s")
		})
	}
}
