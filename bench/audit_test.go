package bench

import (
	"os"
	"path/filepath"
	"testing"

	"kmsd/bench/measure"
	"kmsd/internal/testkit"
	"kmsd/wire/api"

	"golang.org/x/sys/unix"
)

// auditModes are the trail's durability modes (--audit-sync), and no
// trail at all, as BenchmarkAudit runs them.
var auditModes = []struct {
	name string
	args []string
}{
	{"audit=interval", nil}, // the default: flushed at most 5 ms after
	{"audit=batch", []string{"--audit-sync", "batch"}},
	{"audit=always", []string{"--audit-sync", "always"}},
	{"audit=none", []string{"--audit-sync", "none"}},
	{"audit=off", []string{"--no-audit"}},
}

// BenchmarkAudit measures Encrypt 32 B in every durability mode of the
// trail, and without one, in the same run: one synchronous caller (where
// a flush before the answer is the whole latency), 64 concurrent callers
// on one client, and batches of 256. Raw/fdatasync is the flush's own
// latency on the same file system, the bound of batch and always.
func BenchmarkAudit(b *testing.B) {
	for _, mode := range auditModes {
		d := startKMSD(b, mode.args...)
		in := &api.EncryptInput{KeyId: d.key, Plaintext: make([]byte, 32)}
		spec := func(callers, items int) measure.Spec {
			return measure.Spec{Callers: callers, Items: items, Bytes: 32, PID: d.pid, ServerAllocs: d.heapAllocs}
		}
		one := func(int) error { _, err := d.c.Encrypt(ctx, in); return err }
		b.Run(mode.name+"/mode=sync", func(b *testing.B) { measure.Run(b, spec(1, 1), one) })
		b.Run(mode.name+"/mode=callers=64", func(b *testing.B) { measure.Run(b, spec(64, 1), one) })
		items := same(in, 256)
		b.Run(mode.name+"/mode=batch=256", func(b *testing.B) {
			measure.Run(b, spec(1, 256), func(int) error { return firstErr(d.c.EncryptBatch(ctx, items)) })
		})
	}
}

// fdatasyncBench is the latency of appending an audit-record-sized line to
// a file and flushing it (fdatasync), in the directory kind where the
// benchmarks' state lives: what a record costs when it must be on the
// disk before its answer leaves.
func fdatasyncBench(b *testing.B) {
	f, line := recordFile(b)
	measure.Run(b, measure.Spec{Callers: 1}, func(int) error {
		if _, err := f.Write(line); err != nil {
			return err
		}
		return unix.Fdatasync(int(f.Fd()))
	})
}

// appendBench is the cost of appending an audit-record-sized line to a
// file without flushing it: one system call and the file system's write
// path, the least the trail pays for each group of records it writes (in
// every mode a group is written before its answers leave). The file is
// cut back to nothing every 16 MiB, so a long run does not fill the disk.
func appendBench(b *testing.B) {
	f, line := recordFile(b)
	var written int
	measure.Run(b, measure.Spec{Callers: 1}, func(int) error {
		if written += len(line); written > 16<<20 {
			if err := f.Truncate(0); err != nil {
				return err
			}
			written = len(line)
		}
		_, err := f.Write(line)
		return err
	})
}

// recordFile is a file to append to, in the directory kind where the
// benchmarks' state lives (closed when b ends), and a line of an audit
// record's size.
func recordFile(b *testing.B) (*os.File, []byte) {
	f, err := os.OpenFile(filepath.Join(testkit.ShortDir(b), "trail"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { f.Close() })
	line := make([]byte, 400)
	line[len(line)-1] = '\n'
	return f, line
}
