package audit

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// A probe comes back only once the writer is free (here: while a write is
// stuck, simulated by holding the writer's lock), writes nothing, and a
// group queued behind it is still written.
func TestProbe(t *testing.T) {
	dir, st := t.TempDir(), &memStore{}
	w := open(t, dir, st)
	defer w.Close()
	if err := w.Append(call(1)); err != nil {
		t.Fatal(err)
	}
	_, _, _, before := w.WriteStats()

	w.mu.Lock() // a write that hangs
	back := make(chan struct{})
	if !w.Probe(func() { close(back) }) {
		t.Fatal("Probe refused on an empty queue")
	}
	select {
	case <-back:
		t.Fatal("the probe came back while the writer was stuck")
	case <-time.After(200 * time.Millisecond):
	}
	w.mu.Unlock()
	select {
	case <-back:
	case <-time.After(10 * time.Second):
		t.Fatal("the probe did not come back once the writer was free")
	}
	if _, _, _, after := w.WriteStats(); after != before {
		t.Errorf("a probe wrote %d bytes to the trail", after-before)
	}
	if err := w.Append(call(2)); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if r := verify(t, dir, st); r.Problem != nil {
		t.Fatal(r.Problem)
	}
	b, err := os.ReadFile(filepath.Join(dir, FileName(1)))
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(b, []byte(`"event":"Encrypt"`)); n != 2 {
		t.Errorf("trail has %d call records, want 2", n)
	}
}

// A full queue refuses a probe at once rather than blocking the caller
// (the serving loop).
func TestProbeFullQueue(t *testing.T) {
	w := open(t, t.TempDir(), &memStore{})
	w.mu.Lock()
	for len(w.reqs) < cap(w.reqs) {
		w.reqs <- &appendReq{probe: true, done: func(error) {}}
	}
	if w.Probe(func() {}) {
		t.Error("Probe queued on a full queue")
	}
	w.mu.Unlock()
	if err := w.Close(); err != nil {
		t.Error(err)
	}
}
