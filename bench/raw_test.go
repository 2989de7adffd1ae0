package bench

import (
	"crypto/aes"
	"crypto/cipher"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"kmsd/bench/measure"
	"kmsd/keystore"
	"kmsd/wire"
	"kmsd/wire/api"
)

// rawBatch is how many seals one measured call does, so that the clock
// and the work counter cost nothing beside a seal of nanoseconds.
const rawBatch = 256

// BenchmarkRaw is the limits kmsd cannot beat, measured in the same run:
//
//	seal=XAES      kmsd's blob seal in process (XAES-256-GCM, cached epoch
//	               key), on every core at once: the crypto limit
//	seal=AES-GCM   plain AES-256-GCM on every core: the cipher alone
//	echo           one synchronous round trip of an Encrypt-sized request
//	               frame and its echo over a Unix socket: the transport
//	               limit for one caller
func BenchmarkRaw(b *testing.B) {
	m, _, err := keystore.GenerateMaterial(1)
	if err != nil {
		b.Fatal(err)
	}
	block, _ := aes.NewCipher(make([]byte, 32))
	gcm, _ := cipher.NewGCM(block)
	id := keystore.NewKeyID()
	cores := runtime.GOMAXPROCS(0)
	for _, n := range []int{32, 1024, 4096} {
		pt := make([]byte, n)
		spec := measure.Spec{Callers: cores, Items: rawBatch, Bytes: n, NoLatency: true}
		b.Run("seal=XAES/size="+itoa(n), func(b *testing.B) {
			dst := make([][]byte, cores)
			measure.Run(b, spec, func(w int) (err error) {
				for range rawBatch {
					if dst[w], err = keystore.SealBlob(dst[w][:0], m, keystore.AlgXAES256GCM, id, nil, pt); err != nil {
						return err
					}
				}
				return nil
			})
		})
		b.Run("seal=AES-GCM/size="+itoa(n), func(b *testing.B) {
			dst := make([][]byte, cores)
			nonce := make([]byte, 12)
			measure.Run(b, spec, func(w int) error {
				for range rawBatch {
					dst[w] = gcm.Seal(dst[w][:0], nonce, pt, nil)
				}
				return nil
			})
		})
	}
	sock := echoServer(b)
	for _, n := range []int{32, 1024, 4096} {
		frame, _ := wire.AppendRequest(nil, 1, api.OpEncrypt, &api.EncryptInput{KeyId: "1234abcd-12ab-44cd-96ef-1234567890ab", Plaintext: make([]byte, n)})
		b.Run("echo/size="+itoa(n), func(b *testing.B) {
			c, err := net.Dial("unix", sock)
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			buf := make([]byte, len(frame))
			measure.Run(b, measure.Spec{Callers: 1, Bytes: n}, func(int) error {
				if _, err := c.Write(frame); err != nil {
					return err
				}
				_, err := io.ReadFull(c, buf)
				return err
			})
		})
	}
}

// echoServer answers every frame with its own body, framed again.
func echoServer(b *testing.B) string {
	dir, err := os.MkdirTemp("", "echo")
	if err != nil {
		b.Fatal(err)
	}
	ln, err := net.Listen("unix", filepath.Join(dir, "s"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ln.Close(); os.RemoveAll(dir) })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				buf := make([]byte, 1<<16)
				var out []byte
				for {
					body, err := wire.ReadFrame(c, buf, wire.MaxFrame)
					if err != nil {
						return
					}
					out = append(wire.AppendFrameHeader(out[:0]), body...)
					wire.FinishFrame(out, 0)
					if _, err := c.Write(out); err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}
