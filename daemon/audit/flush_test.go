package audit

import (
	"bytes"
	"os"
	"testing"
	"time"
)

// TestIntervalMode: in the default mode a record is in the file when
// Append returns (a crash of kmsd loses nothing), the flush follows off
// the answer's path, and a checkpoint reaches the store only once it has
// been flushed.
func TestIntervalMode(t *testing.T) {
	dir, st := t.TempDir(), &memStore{}
	w := open(t, dir, st, func(c *Config) { c.CheckpointCount, c.FlushInterval = 3, 5*time.Millisecond })
	defer w.Close()
	for i := range 4 {
		if err := w.Append(call(i)); err != nil {
			t.Fatal(err)
		}
	}
	files, _ := Files(dir)
	b, _ := os.ReadFile(files[0])
	if n := bytes.Count(b, []byte("\n")); n < 5 {
		t.Fatalf("%d lines in the file when Append returned, want every record", n)
	}
	// The flusher runs on its own; wait for it (the deadline only guards
	// against a hang).
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		n, _, _ := w.FlushStats()
		seq, _, ok, _ := st.LoadCheckpoint()
		if n > 0 && ok && seq >= 4 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no flush and saved checkpoint: %d flushes, checkpoint %d %v", n, seq, ok)
		}
	}
}
