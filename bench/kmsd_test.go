package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"kmsd/bench/measure"
	"kmsd/internal/testkit"
	"kmsd/wire/client"
)

// BenchmarkKMSD is every op of the suite in every mode, against the real
// kmsd binary with audit (interval mode) and authorization (the default
// key policy) at their defaults; one daemon per op.
//
//	mode=sync        one synchronous caller
//	mode=callers=64  64 goroutines on one client, which coalesces their
//	                 concurrent calls into batch frames
//	mode=conns=16    16 clients (connections), one synchronous caller each
//	mode=procs=16x4  16 processes, each with one client and 4 callers on
//	                 it: the programs of a busy host
//	mode=batch=N     explicit batches of N items from one caller
//	                 (ops/s counts items)
//	mode=fuse=N      N callers each doing open, write, read, close on the
//	                 FUSE mount's encrypt file (as root only)
func BenchmarkKMSD(b *testing.B) {
	for _, o := range ops {
		b.Run(o.name, func(b *testing.B) {
			var mnt string
			var args []string
			if o.fuse != "" && os.Geteuid() == 0 {
				mnt = filepath.Join(testkit.ShortDir(b), "fs")
				if err := os.Mkdir(mnt, 0o755); err != nil {
					b.Fatal(err)
				}
				args = append(args, "--mount", mnt)
			}
			d := startKMSD(b, args...)
			c, err := o.prep(d.c, d.key)
			if err != nil {
				b.Fatal(err)
			}
			spec := func(callers, items int) measure.Spec {
				return measure.Spec{Callers: callers, Items: items, Bytes: o.size, PID: d.pid, ServerAllocs: d.heapAllocs}
			}
			b.Run("mode=sync", func(b *testing.B) {
				measure.Run(b, spec(1, 1), func(int) error { return c.one(d.c) })
			})
			b.Run("mode=callers=64", func(b *testing.B) {
				measure.Run(b, spec(64, 1), func(int) error { return c.one(d.c) })
			})
			conns := make([]*client.Client, 16)
			for i := range conns {
				conns[i] = d.dial(b, client.Options{Client: "bench", MaxCoalesce: 1})
			}
			b.Run("mode=conns=16", func(b *testing.B) {
				measure.Run(b, spec(16, 1), func(w int) error { return c.one(conns[w]) })
			})
			for _, c := range conns {
				c.Close() // their rings go back for the batches' larger one
			}
			b.Run("mode=procs=16x4", func(b *testing.B) { runProcs(b, d, o, 16, 4) })
			bulk := d.dialBulk(b)
			for _, n := range []int{16, 256, 4096} {
				b.Run("mode=batch="+itoa(n), func(b *testing.B) {
					measure.Run(b, spec(1, n), func(int) error { return c.batch(bulk, n) })
				})
			}
			if mnt == "" {
				return
			}
			file := filepath.Join(mnt, "keys", "by-id", d.key, "context", "app=bench", o.fuse) // kmsd is ready once it is mounted
			pt := make([]byte, o.size)
			for _, n := range []int{1, 16} {
				b.Run("mode=fuse="+itoa(n), func(b *testing.B) {
					measure.Run(b, spec(n, 1), func(int) error { return fuseCall(file, pt) })
				})
			}
		})
	}
}

// fuseCall is one transaction on a FUSE operation file.
func fuseCall(file string, in []byte) error {
	f, err := os.OpenFile(file, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := f.Write(in); err != nil {
		return err
	}
	var out [8192]byte
	n, err := f.Read(out[:])
	if err != nil {
		return err
	}
	if n <= len(in) {
		return fmt.Errorf("%s gave %d bytes for %d", file, n, len(in))
	}
	return nil
}

func itoa(n int) string { return strconv.Itoa(n) }
