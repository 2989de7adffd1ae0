package bench

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"kmsd/wire"
)

// BenchmarkFUSE is Encrypt of 32 bytes through the mount (open, write,
// read, close: one transaction) beside the same call on the socket, in the
// same run and on the same daemon, from 1 caller and from 16 at once.
// Every call of both is authorized and audited (the trail's default sync).
func BenchmarkFUSE(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("mounting FUSE directly needs root")
	}
	mnt, err := os.MkdirTemp("", "kmsd-fs")
	if err != nil {
		b.Fatal(err)
	}
	_, c, key := daemon(b, "--mount", mnt)
	b.Cleanup(func() { syscall.Unmount(mnt, syscall.MNT_DETACH); os.Remove(mnt) }) // before daemon's kill
	file := filepath.Join(mnt, "keys", "by-id", key, "encrypt")
	for start := time.Now(); ; time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(file); err == nil {
			break
		}
		if time.Since(start) > 20*time.Second {
			b.Fatalf("the mount did not come up: %v", err)
		}
	}
	pt := bytes.Repeat([]byte{'k'}, 32)
	in := &wire.EncryptInput{KeyId: key, Plaintext: pt}
	viaSocket := func() error {
		_, err := c.Encrypt(ctx, in)
		return err
	}
	viaFUSE := func() error {
		f, err := os.OpenFile(file, os.O_RDWR, 0)
		if err != nil {
			return err
		}
		defer f.Close()
		if _, err := f.Write(pt); err != nil {
			return err
		}
		var out [256]byte
		if n, err := f.Read(out[:]); err != nil || n < len(pt) {
			return err
		}
		return nil
	}
	for _, callers := range []int{1, 16} {
		for _, path := range []struct {
			name string
			do   func() error
		}{{"socket", viaSocket}, {"fuse", viaFUSE}} {
			b.Run(path.name+"/callers="+strconv.Itoa(callers), func(b *testing.B) {
				b.SetBytes(32)
				if callers == 1 {
					for b.Loop() {
						if err := path.do(); err != nil {
							b.Fatal(err)
						}
					}
				} else {
					b.SetParallelism(callers / max(1, runtimeProcs()))
					b.RunParallel(func(pb *testing.PB) {
						for pb.Next() {
							if err := path.do(); err != nil {
								b.Error(err)
								return
							}
						}
					})
				}
				opsPerSec(b, b.N)
			})
		}
	}
}
