package audit

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// verifyDir verifies a directory's trail, as kmsctl does without kmsd.
func verifyDir(t *testing.T, dir string) *Report {
	t.Helper()
	files, err := Files(dir)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Verify(files, VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestFileRemovedWhileWriting: the current file unlinked while kmsd
// writes it is written again from what kmsd holds, and the records
// written after go on in it: the trail verifies whole, every record there.
func TestFileRemovedWhileWriting(t *testing.T) {
	dir := t.TempDir()
	w := open(t, dir, &memStore{}, func(c *Config) { c.CheckpointEvery = 20 * time.Millisecond })
	for i := range 10 {
		if err := w.Append(call(i)); err != nil {
			t.Fatal(err)
		}
	}
	files, _ := Files(dir)
	if err := os.Remove(files[0]); err != nil {
		t.Fatal(err)
	}
	// A checkpoint tick finds it gone, and writes it again.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		if _, err := os.Stat(files[0]); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the removed file was never written again")
		}
	}
	for i := 10; i < 20; i++ {
		if err := w.Append(call(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r := verifyDir(t, dir)
	if r.Problem != nil || len(r.Gaps) != 0 {
		t.Fatalf("after a restore: %v %v", r.Problem, r.Gaps)
	}
	b, _ := os.ReadFile(files[0])
	if n := strings.Count(string(b), `"event":"Encrypt"`); n != 20 || !strings.Contains(string(b), "AuditFileRestored") {
		t.Fatalf("%d Encrypt records after the restore, want 20:\n%s", n, b)
	}
}

// TestGapsAreReportedForGood: a trail cut short while kmsd was stopped,
// or whose files were all removed, is reported by Verify as having lost
// records however far the trail goes on after, and kmsd's store keeps the
// gap too; the chain itself stays intact.
func TestGapsAreReportedForGood(t *testing.T) {
	st := &memStore{}
	dir := t.TempDir()
	w := open(t, dir, st)
	for i := range 10 {
		w.Append(call(i))
	}
	w.Close() // checkpoint at the end, saved in st
	// Cut the last records off while kmsd is stopped.
	files, _ := Files(dir)
	b, _ := os.ReadFile(files[0])
	lines := strings.SplitAfter(string(b), "\n")
	os.WriteFile(files[0], []byte(strings.Join(lines[:5], "")), 0o600)
	w = open(t, dir, st)
	for i := range 5 {
		w.Append(call(i))
	}
	w.Checkpoint()
	w.Close()
	r := verifyDir(t, dir)
	if r.Problem != nil || len(r.Gaps) != 1 || !strings.Contains(r.Gaps[0], "were removed while kmsd was stopped") {
		t.Fatalf("a cut trail: problem %v, gaps %q", r.Problem, r.Gaps)
	}
	// Remove every file while kmsd is stopped: the new trail numbers on
	// after the last checkpoint, so its start shows what is missing.
	for _, f := range files {
		os.Remove(f)
	}
	last := st.seq
	w = open(t, dir, st)
	w.Append(call(1))
	w.Close()
	r = verifyDir(t, dir)
	if r.Problem == nil || !strings.Contains(r.Problem.Reason, "records 1 to") || r.FirstSeq != 0 && r.FirstSeq <= last {
		t.Fatalf("a trail without its files: problem %v, first seq %d (had reached %d)", r.Problem, r.FirstSeq, last)
	}
	if len(st.gaps) != 2 || !strings.Contains(st.gaps[1], "files were removed") {
		t.Fatalf("the store keeps %q", st.gaps)
	}
}

// TestOneWriterPerTrail: a second writer on a trail's directory (another
// kmsd with the same --audit-dir) is refused while the first is open, and
// welcome once it is closed.
func TestOneWriterPerTrail(t *testing.T) {
	dir := t.TempDir()
	w := open(t, dir, &memStore{})
	if _, err := Open(Config{Dir: dir, MACKey: testKey}); err == nil || !strings.Contains(err.Error(), "another kmsd writes") {
		t.Fatalf("a second writer: %v", err)
	}
	w.Close()
	w2, err := Open(Config{Dir: dir, MACKey: testKey})
	if err != nil {
		t.Fatalf("after the first closed: %v", err)
	}
	w2.Close()
}

// TestRetention: past RetainBytes the oldest files are removed, each
// retirement saved (where it ended) before the file goes and recorded
// after; the trail then verifies whole from where kmsd says it begins,
// and not without that (a trail cut by hand still shows).
func TestRetention(t *testing.T) {
	st := &memStore{}
	dir := t.TempDir()
	w := open(t, dir, st, func(c *Config) { c.MaxFileSize = 16 << 10; c.RetainBytes = 48 << 10 })
	for i := range 600 {
		if err := w.Append(call(i)); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	files, _ := Files(dir)
	var total int64
	for _, f := range files {
		s, _ := os.Stat(f)
		total += s.Size()
	}
	if filepath.Base(files[0]) == FileName(1) || total > 48<<10+16<<10 || st.retiredSeq == 0 {
		t.Fatalf("after retention: files %v, %d bytes, retired to %d", files, total, st.retiredSeq)
	}
	r, err := Verify(files, VerifyOptions{RetiredSeq: st.retiredSeq, RetiredHash: st.retiredHash})
	if err != nil || r.Problem != nil || r.FirstSeq != st.retiredSeq+1 {
		t.Fatalf("verify with what kmsd kept: %v %v (first %d)", err, r.Problem, r.FirstSeq)
	}
	if !strings.Contains(string(mustRead(t, files)), "AuditRetired") {
		t.Error("no AuditRetired record")
	}
	if r := verifyDir(t, dir); r.Problem == nil || !strings.Contains(r.Problem.Reason, "are missing") {
		t.Fatalf("verify without what kmsd kept: %v", r.Problem)
	}
}

func mustRead(t *testing.T, files []string) []byte {
	var all []byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	return all
}
