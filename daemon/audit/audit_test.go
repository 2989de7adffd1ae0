package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
)

var testKey = bytes.Repeat([]byte{7}, 32)

// memStore is a CheckpointStore for tests.
type memStore struct {
	mu   sync.Mutex
	seq  uint64
	hash [32]byte
	ok   bool
	tree []byte
	gaps []string
	// where retired files ended
	retiredSeq  uint64
	retiredHash [32]byte
}

func (m *memStore) SaveRetired(seq uint64, h [32]byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.retiredSeq, m.retiredHash = seq, h
	return nil
}

func (m *memStore) NoteGap(what string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.gaps = append(m.gaps, what)
	return nil
}

func (m *memStore) LoadCheckpoint() (uint64, [32]byte, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.seq, m.hash, m.ok, nil
}

func (m *memStore) SaveCheckpoint(seq uint64, h [32]byte, tree []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.seq, m.hash, m.ok, m.tree = seq, h, true, tree
	return nil
}

func (m *memStore) CheckpointTree() ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.tree, nil
}

// testSigner is the key of the tests' trails; each writer is given a
// signer of its own (newTestSigner), as Close clears its key.
var testSigner = newTestSigner()

func newTestSigner() *Signer {
	return mustSigner("test.example/kmsd-audit/0001", bytes.Repeat([]byte{9}, 32))
}

func mustSigner(origin string, seed []byte) *Signer {
	s, err := NewSigner(origin, seed)
	if err != nil {
		panic(err)
	}
	return s
}

// testVerifiers hold testSigner's public key only.
func testVerifiers(t testing.TB) note.Verifiers {
	vs, _, err := Verifiers(testSigner.VerifierKey())
	if err != nil {
		t.Fatal(err)
	}
	return vs
}

func open(t *testing.T, dir string, st CheckpointStore, mod ...func(*Config)) *Writer {
	t.Helper()
	cfg := Config{Dir: dir, MACKey: testKey, Signer: newTestSigner(), Store: st, KeyUse: func(event string) bool { return event == "Encrypt" }}
	for _, m := range mod {
		m(&cfg)
	}
	w, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func call(i int) *Event {
	return &Event{Time: time.Date(2026, 1, 1, 0, 0, i%60, 0, time.UTC), Type: TypeCall, Name: "Encrypt",
		RequestID: fmt.Sprintf("c1:%d", i), Caller: Caller{UID: 1000, GID: 1000, PID: 42, Unit: "app.service", Source: "socket", Principal: "uid:1000 unit:app.service"},
		KeyID: "1234abcd-12ab-44cd-96ef-1234567890ab", Context: map[string]string{"tenant": "a"}, InBytes: 32, OutBytes: 94}
}

func verify(t *testing.T, dir string, st *memStore) *Report {
	t.Helper()
	files, _ := Files(dir)
	o := VerifyOptions{CheckMAC: func(seq uint64, prev [32]byte, mac []byte) bool {
		return bytes.Equal(CheckpointMAC(testKey, seq, prev), mac)
	}, Verifiers: testVerifiers(t)}
	if st != nil {
		o.HeadSeq, o.HeadHash, _, _ = st.LoadCheckpoint()
	}
	r, err := Verify(files, o)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestWriteResumeVerify(t *testing.T) {
	dir, st := t.TempDir(), &memStore{}
	w := open(t, dir, st)
	var evs []*Event
	for i := range 10 {
		evs = append(evs, call(i))
	}
	if err := w.Append(evs[:4]...); err != nil {
		t.Fatal(err)
	}
	if err := w.Append(evs[4:]...); err != nil {
		t.Fatal(err)
	}
	if evs[0].Seq != 2 || evs[9].Seq != 11 { // seq 1 is the open record
		t.Fatalf("seqs %d..%d", evs[0].Seq, evs[9].Seq)
	}
	w.Close()
	w = open(t, dir, st)
	w.Append(call(99))
	w.Close()
	r := verify(t, dir, st)
	if r.Problem != nil || r.Records != 14 || r.Checkpoints != 2 || r.LastSeq != st.seq || !r.MACsChecked {
		t.Fatalf("%+v %v", r, r.Problem)
	}
	b, _ := os.ReadFile(filepath.Join(dir, FileName(1)))
	var first map[string]any
	json.Unmarshal(bytes.SplitN(b, []byte("\n"), 3)[1], &first)
	if first["event"] != "Encrypt" || first["context"].(map[string]any)["tenant"] != "a" || first["caller"].(map[string]any)["unit"] != "app.service" {
		t.Fatalf("record %v", first)
	}
}

func TestRotation(t *testing.T) {
	dir, st := t.TempDir(), &memStore{}
	w := open(t, dir, st, func(c *Config) { c.MaxFileSize = 4096 })
	for i := range 100 {
		if err := w.Append(call(i)); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	files, _ := Files(dir)
	if len(files) < 5 {
		t.Fatalf("%d files", len(files))
	}
	for _, f := range files {
		if st, _ := os.Stat(f); st.Size() > 4096+1024 {
			t.Fatalf("%s is %d bytes", f, st.Size())
		}
	}
	if r := verify(t, dir, st); r.Problem != nil || r.Files != len(files) {
		t.Fatalf("%v", r.Problem)
	}
}

// trail writes a small sealed trail (it ends with a checkpoint) and
// returns its directory and store.
func trail(t *testing.T, n int, mod ...func(*Config)) (string, *memStore) {
	dir, st := t.TempDir(), &memStore{}
	w := open(t, dir, st, mod...)
	for i := range n {
		if err := w.Append(call(i)); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	if r := verify(t, dir, st); r.Problem != nil {
		t.Fatalf("fresh trail: %v", r.Problem)
	}
	return dir, st
}

// TestEveryByteIsProtected flips each byte of a trail in turn: every
// change must be reported.
func TestEveryByteIsProtected(t *testing.T) {
	dir, st := trail(t, 4, func(c *Config) { c.MaxFileSize = 1200 })
	files, _ := Files(dir)
	if len(files) < 2 {
		t.Fatalf("want several files, got %d", len(files))
	}
	for _, f := range files {
		orig, _ := os.ReadFile(f)
		for i := range orig {
			b := bytes.Clone(orig)
			b[i] ^= 0x01
			os.WriteFile(f, b, 0o600)
			if r := verify(t, dir, st); r.Problem == nil {
				t.Fatalf("%s byte %d (%q) changed undetected", filepath.Base(f), i, orig[i])
			}
		}
		os.WriteFile(f, orig, 0o600)
	}
}

func TestTamperingWithRecordsAndFiles(t *testing.T) {
	cases := map[string]func(t *testing.T, files []string){
		"remove a record": func(t *testing.T, files []string) {
			editLines(t, files[0], func(l [][]byte) [][]byte { return append(l[:2:2], l[3:]...) })
		},
		"swap two records": func(t *testing.T, files []string) {
			editLines(t, files[0], func(l [][]byte) [][]byte { l[1], l[2] = l[2], l[1]; return l })
		},
		"duplicate a record": func(t *testing.T, files []string) {
			editLines(t, files[0], func(l [][]byte) [][]byte { return append(l[:2:2], l[1:]...) })
		},
		"cut the tail": func(t *testing.T, files []string) {
			last := files[len(files)-1]
			editLines(t, last, func(l [][]byte) [][]byte { return l[:len(l)-1] })
		},
		"delete the last file": func(t *testing.T, files []string) { os.Remove(files[len(files)-1]) },
		"delete a middle file": func(t *testing.T, files []string) { os.Remove(files[1]) },
		"empty a file":         func(t *testing.T, files []string) { os.WriteFile(files[0], nil, 0o600) },
		"rewrite and re-chain without the key": func(t *testing.T, files []string) {
			// Change a record, then recompute every prev after it: only the MAC catches this.
			editLines(t, files[0], func(l [][]byte) [][]byte {
				l[1] = bytes.Replace(l[1], []byte(`"uid":1000`), []byte(`"uid":1001`), 1)
				return l
			})
			rechain(t, files)
		},
	}
	for name, tamper := range cases {
		t.Run(name, func(t *testing.T) {
			dir, st := trail(t, 30, func(c *Config) { c.MaxFileSize = 3000 })
			files, _ := Files(dir)
			tamper(t, files)
			if r := verify(t, dir, st); r.Problem == nil {
				t.Fatal("not detected")
			} else {
				t.Log(r.Problem)
			}
		})
	}
}

func editLines(t *testing.T, f string, edit func([][]byte) [][]byte) {
	t.Helper()
	b, _ := os.ReadFile(f)
	lines := bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n"))
	out := bytes.Join(edit(lines), []byte("\n"))
	os.WriteFile(f, append(out, '\n'), 0o600)
}

// rechain recomputes prev for every record, as a forger without the MAC
// key would.
func rechain(t *testing.T, files []string) {
	var prev [32]byte
	for _, f := range files {
		editLines(t, f, func(lines [][]byte) [][]byte {
			for i, l := range lines {
				j := bytes.LastIndex(l, []byte(`"prev":"`))
				l = append(l[:j:j], []byte(fmt.Sprintf(`"prev":"%x"}`, prev))...)
				lines[i] = l
				prev = sha256.Sum256(l)
			}
			return lines
		})
	}
}

func TestTornLineIsRepairedOnResume(t *testing.T) {
	dir, st := trail(t, 5)
	f, _ := os.OpenFile(filepath.Join(dir, FileName(1)), os.O_WRONLY|os.O_APPEND, 0)
	f.Write([]byte(`{"time":"2026-01-01T00:00:00.000000Z","type":"call","ev`))
	f.Close()
	w := open(t, dir, st)
	if err := w.Append(call(1)); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if r := verify(t, dir, st); r.Problem != nil {
		t.Fatal(r.Problem)
	}
}

func TestCutWhileStoppedIsRecorded(t *testing.T) {
	dir, st := trail(t, 5)
	editLines(t, filepath.Join(dir, FileName(1)), func(l [][]byte) [][]byte { return l[:3] })
	w := open(t, dir, st)
	w.Close()
	b, _ := os.ReadFile(filepath.Join(dir, FileName(1)))
	if !bytes.Contains(b, []byte(`"event":"AuditTrailCut"`)) {
		t.Fatalf("no AuditTrailCut record:\n%s", b)
	}
}

func TestSyncModes(t *testing.T) {
	for _, m := range []string{"always", "batch", "none"} {
		mode, err := ParseSyncMode(m)
		if err != nil {
			t.Fatal(err)
		}
		dir, st := trail(t, 20, func(c *Config) { c.Sync = mode })
		if r := verify(t, dir, st); r.Problem != nil || r.Records < 22 {
			t.Fatalf("%s: %+v", m, r)
		}
	}
	if _, err := ParseSyncMode("sometimes"); err == nil {
		t.Fatal("bad mode accepted")
	}
}

func TestConcurrentAppendsChainInOrder(t *testing.T) {
	appendConcurrently(t, 3200, func(w *Writer, g, i int) error {
		return w.Append(call(g*1000+i), call(g*1000+i+500))
	})
}

// appendConcurrently calls add 200 times from each of 8 goroutines (g is
// the goroutine, i the call), then checks that the trail verifies and
// holds at least records records.
func appendConcurrently(t *testing.T, records int, add func(w *Writer, g, i int) error) {
	t.Helper()
	dir, st := t.TempDir(), &memStore{}
	w := open(t, dir, st)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				if err := add(w, g, i); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	w.Close()
	if r := verify(t, dir, st); r.Problem != nil || r.Records < records {
		t.Fatalf("%+v %v", r, r.Problem)
	}
}

func TestUsage(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	dir := t.TempDir()
	w := open(t, dir, &memStore{}, func(c *Config) {
		c.Now = func() time.Time { return now }
		c.CountsUsage = func(event string) bool { return event != "Status" }
	})
	defer w.Close()
	ok := call(1)
	ok.Time = now
	bad := call(2)
	bad.Time, bad.Error = now, "AccessDeniedException"
	desc := call(3)
	desc.Time, desc.Name = now, "DescribeKey"
	status := call(4)
	status.Time, status.Name, status.KeyID = now, "Status", "" // recorded, not counted
	w.Append(ok, bad, desc, status)
	last, found := w.Usage().Last(ok.KeyID)
	if !found || last.Operation != "Encrypt" || last.Seq != ok.Seq || !last.Time.Equal(now) {
		t.Fatalf("last use %+v", last)
	}
	c := w.Usage().Counts(time.Hour)
	if len(c) != 1 || c[0].Requests != 3 || c[0].Errors != 1 || c[0].Principal != "uid:1000 unit:app.service" {
		t.Fatalf("counts %+v", c)
	}
}

func TestQuery(t *testing.T) {
	dir, _ := trail(t, 0)
	w := open(t, dir, &memStore{})
	a := call(1)
	b := call(2)
	b.Name, b.Error, b.Caller.UID, b.Caller.Unit = "Decrypt", "AccessDeniedException", 7, ""
	c := call(3)
	c.KeyID, c.Time = "other", c.Time.Add(time.Hour)
	w.Append(a, b, c)
	w.Close()
	files, _ := Files(dir)
	count := func(f Filter) int {
		n := 0
		if err := Query(files, f, func([]byte) error { n++; return nil }); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for name, c := range map[string]struct {
		f    Filter
		want int
	}{
		"all":           {Filter{}, 6}, // open, checkpoint, three calls, checkpoint
		"key":           {Filter{KeyID: "other"}, 1},
		"operation":     {Filter{Operation: "Decrypt"}, 1},
		"uid":           {Filter{Principal: "uid:7"}, 1},
		"unit":          {Filter{Principal: "unit:app.service"}, 2},
		"errors":        {Filter{Result: "error"}, 1},
		"by exception":  {Filter{Result: "AccessDeniedException"}, 1},
		"success calls": {Filter{Result: "success"}, 2},
		"since":         {Filter{Since: time.Date(2026, 1, 1, 0, 30, 0, 0, time.UTC), Operation: "Encrypt"}, 1},
		"until":         {Filter{Until: time.Date(2026, 1, 1, 0, 30, 0, 0, time.UTC), Operation: "Encrypt"}, 1},
	} {
		if got := count(c.f); got != c.want {
			t.Errorf("%s: %d, want %d", name, got, c.want)
		}
	}
}

func TestEscaping(t *testing.T) {
	e := &Event{Time: time.Unix(0, 0), Type: TypeCall, Name: "Encrypt",
		Context: map[string]string{"k\"\\\n<": "\xff\u2028"}, Caller: Caller{Exe: "/bin/\x00x"}}
	b := append(e.appendBody(nil), '}')
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	if !strings.Contains(string(b), `\u003c`) || strings.ContainsAny(string(b), "\n\x00") {
		t.Fatalf("%s", b)
	}
	if _, err := Open(Config{Dir: t.TempDir()}); err == nil {
		t.Fatal("opened without a MAC key")
	}
	if !errors.Is(fmt.Errorf("x: %w", ErrUnavailable), ErrUnavailable) {
		t.Fatal()
	}
}

// TestTrailReadsCleanly: a live trail's file holds whole records and
// nothing else, in every mode, so that tail -f, grep and jq read it as it
// grows: no zeros, every line a JSON object, the file's size that of its
// records (the space reserved ahead is past its end).
func TestTrailReadsCleanly(t *testing.T) {
	for _, mode := range []SyncMode{SyncInterval, SyncBatch, SyncAlways} {
		t.Run(mode.String(), func(t *testing.T) {
			live := t.TempDir()
			w := open(t, live, &memStore{}, func(c *Config) { c.Sync = mode })
			defer w.Close()
			for i := range 5 {
				if err := w.Append(call(i)); err != nil {
					t.Fatal(err)
				}
			}
			files, _ := Files(live)
			b, _ := os.ReadFile(files[0])
			if bytes.IndexByte(b, 0) >= 0 {
				t.Fatal("the live file holds zero bytes")
			}
			lines := bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n"))
			for _, l := range lines {
				if !json.Valid(l) {
					t.Fatalf("not a JSON line: %q", l)
				}
			}
			if len(lines) != 6 {
				t.Fatalf("%d lines, want the open record and 5", len(lines))
			}
		})
	}
}

// TestOldPaddingIsSkipped: a trail an earlier kmsd padded with zeros (and
// left so by a crash) still verifies and queries, and a writer continues
// after its last record and cuts the padding off.
func TestOldPaddingIsSkipped(t *testing.T) {
	live, st := t.TempDir(), &memStore{}
	w := open(t, live, st)
	for i := range 5 {
		if err := w.Append(call(i)); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	crashed := t.TempDir()
	files, _ := Files(live)
	b, _ := os.ReadFile(files[0])
	b = bytes.TrimSuffix(b, lastLineOf(b)) // the final checkpoint, written at close: not there after a crash
	b = append(b, make([]byte, 64<<10)...)
	os.WriteFile(filepath.Join(crashed, filepath.Base(files[0])), b, 0o600)
	cf, _ := Files(crashed)
	if r, _ := Verify(cf, VerifyOptions{}); r.Problem != nil || r.Records != 6 {
		t.Fatalf("padded trail: %+v %v", r, r.Problem)
	}
	n := 0
	Query(cf, Filter{}, func([]byte) error { n++; return nil })
	if n != 6 {
		t.Fatalf("query read %d records", n)
	}
	// Garbage after the padding is reported.
	bad := append(bytes.Clone(b), []byte(`{"x":1}`+"\n")...)
	os.WriteFile(cf[0], bad, 0o600)
	if r, _ := Verify(cf, VerifyOptions{}); r.Problem == nil {
		t.Fatal("data hidden after the padding went unnoticed")
	}
	os.WriteFile(cf[0], b, 0o600)
	w2 := open(t, crashed, &memStore{})
	if err := w2.Append(call(9)); err != nil {
		t.Fatal(err)
	}
	w2.Close()
	if r := verify(t, crashed, nil); r.Problem != nil || r.Records != 8 {
		t.Fatalf("after resuming: %+v %v", r, r.Problem)
	}
	if bytes.Contains(must(os.ReadFile(cf[0])), []byte{0}) {
		t.Fatal("padding left after a clean close")
	}
}

// lastLineOf is the last line of b, with its newline.
func lastLineOf(b []byte) []byte {
	i := bytes.LastIndexByte(b[:len(b)-1], '\n')
	return b[i+1:]
}

func must(b []byte, _ error) []byte { return b }
