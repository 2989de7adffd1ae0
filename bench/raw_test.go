package bench

import (
	"crypto/aes"
	"crypto/cipher"
	"io"
	"net"
	"os"
	"os/exec"
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
//	               limit for one caller; echo/conns=64 is 64 such callers
//	               in this process, echo/procs=16x4 16 processes of 4 (a
//	               connection each): the transport limit for kmsd's
//	               callers=64 and procs=16x4 modes (which coalesce the
//	               calls of one client into frames, and may pass it)
//	fdatasync      appending a record-sized line to a file and flushing
//	               it: the latency bound of --audit-sync batch and always
//	append         appending such a line without the flush: the least a
//	               group of the trail's records costs (one write(2))
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
			ws := make([]rawWorker, cores)
			measure.Run(b, spec, func(w int) (err error) {
				x := &ws[w]
				for range rawBatch {
					if x.dst, err = keystore.SealBlobContext(x.dst[:0], m, &x.run, keystore.AlgXAES256GCM, id, nil, pt); err != nil {
						return err
					}
				}
				return nil
			})
		})
		b.Run("seal=AES-GCM/size="+itoa(n), func(b *testing.B) {
			ws := make([]rawWorker, cores)
			nonce := make([]byte, 12)
			measure.Run(b, spec, func(w int) error {
				x := &ws[w]
				for range rawBatch {
					x.dst = gcm.Seal(x.dst[:0], nonce, pt, nil)
				}
				return nil
			})
		})
	}
	b.Run("fdatasync", fdatasyncBench)
	b.Run("append", appendBench)
	sock := echoServer(b)
	for _, n := range []int{32, 1024, 4096} {
		b.Run("echo/size="+itoa(n), func(b *testing.B) {
			e := benchEcho(b, sock, 1, n)
			measure.Run(b, measure.Spec{Callers: 1, Bytes: n}, e.roundTrip)
		})
	}
	b.Run("echo/size=32/conns=64", func(b *testing.B) {
		e := benchEcho(b, sock, 64, 32)
		measure.Run(b, measure.Spec{Callers: 64, Bytes: 32}, e.roundTrip)
	})
	b.Run("echo/size=32/procs=16x4", func(b *testing.B) {
		measure.RunProcs(b, measure.Spec{Callers: 64, Bytes: 32}, 16, func(p, n int) *exec.Cmd {
			c := exec.Command(os.Args[0])
			c.Env = append(os.Environ(), envChild+"="+echoChild, envSock+"="+sock, envCalls+"="+itoa(n), envCallers+"=4")
			return c
		})
	})
}

// echo is connections to the echo server, one per caller, and the frame
// each sends: an Encrypt request of size bytes.
type echo struct {
	conns      []net.Conn
	frame, buf [][]byte
}

func dialEcho(sock string, callers, size int) (*echo, error) {
	frame, _ := wire.AppendRequest(nil, 1, api.OpEncrypt, &api.EncryptInput{KeyId: "1234abcd-12ab-44cd-96ef-1234567890ab", Plaintext: make([]byte, size)})
	e := &echo{}
	for range callers {
		c, err := net.Dial("unix", sock)
		if err != nil {
			e.close()
			return nil, err
		}
		e.conns = append(e.conns, c)
		e.frame = append(e.frame, frame)
		e.buf = append(e.buf, make([]byte, len(frame)))
	}
	return e, nil
}

func (e *echo) close() {
	for _, c := range e.conns {
		c.Close()
	}
}

// benchEcho is dialEcho for a benchmark, closed when it ends.
func benchEcho(b *testing.B, sock string, callers, size int) *echo {
	e, err := dialEcho(sock, callers, size)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(e.close)
	return e
}

// roundTrip is caller w's round trip.
func (e *echo) roundTrip(w int) error {
	if _, err := e.conns[w].Write(e.frame[w]); err != nil {
		return err
	}
	_, err := io.ReadFull(e.conns[w], e.buf[w])
	return err
}

// echoServer answers every frame with its own body, framed again, in
// this process.
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
	go serveEcho(ln)
	return ln.Addr().String()
}

// serveEcho is the echo server: a goroutine per connection reads a frame
// and writes it back, as kmsd's socket reads and answers one (the least
// any server of this protocol does per request). It returns when ln is
// closed.
func serveEcho(ln net.Listener) {
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
}

// rawWorker is what one core's seals write, a cache line apart from the
// next core's: as kmsd's workers seal, with no line written by two cores
// (a shared line, a nonce counter or slice headers side by side, made
// two cores seal no faster than one).
type rawWorker struct {
	dst []byte
	run keystore.NonceRun
	_   [64]byte
}
