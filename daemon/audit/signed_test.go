package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// signedTrail writes a sealed trail of n records with a checkpoint every
// 5 records, and returns its directory.
func signedTrail(t *testing.T, n int, mod ...func(*Config)) string {
	t.Helper()
	dir, _ := trail(t, n, append([]func(*Config){func(c *Config) { c.CheckpointCount = 5 }}, mod...)...)
	return dir
}

// lines returns the records of a trail's files, in order.
func lines(t *testing.T, dir string) [][]byte {
	files, _ := Files(dir)
	var out [][]byte
	for _, f := range files {
		if err := eachLine(f, func(l []byte) { out = append(out, append([]byte(nil), l...)) }); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// verifyOffline verifies a trail as someone holding only the public key
// does: no MAC key, no kmsd.
func verifyOffline(t *testing.T, dir string, vkey string, exported ...ExportedCheckpoint) *Report {
	t.Helper()
	vs, _, err := Verifiers(vkey)
	if err != nil {
		t.Fatal(err)
	}
	files, _ := Files(dir)
	r, err := Verify(files, VerifyOptions{Verifiers: vs, Exported: exported})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestCheckpointsAreStandard checks kmsd's signed checkpoints and proofs
// with golang.org/x/mod's note and tlog packages alone: the signature
// with note.Open, the root against tlog's own tree of the records, and
// every proof with tlog.CheckRecord and tlog.CheckTree.
func TestCheckpointsAreStandard(t *testing.T) {
	dir := signedTrail(t, 40, func(c *Config) { c.MaxFileSize = 2048 })
	verifier, err := note.NewVerifier(testSigner.VerifierKey())
	if err != nil {
		t.Fatal(err)
	}
	recs := lines(t, dir)
	ref := &tlogStore{}
	for i, l := range recs {
		ref.add(t, int64(i), l)
	}
	files, _ := Files(dir)
	tr, err := OpenTrail(files)
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Checkpoints) < 8 || tr.Last != uint64(len(recs)) {
		t.Fatalf("%d signed checkpoints over %d records (last %d)", len(tr.Checkpoints), len(recs), tr.Last)
	}
	for _, c := range tr.Checkpoints {
		n, err := note.Open(c.Signed, note.VerifierList(verifier))
		if err != nil {
			t.Fatalf("checkpoint at seq %d: %v", c.Seq, err)
		}
		text := strings.Split(n.Text, "\n")
		if len(text) != 4 || text[0] != testSigner.Name() || text[1] != strconv.FormatUint(c.Seq-1, 10) || text[3] != "" {
			t.Fatalf("checkpoint text %q at seq %d: want origin, size %d, root", n.Text, c.Seq, c.Seq-1)
		}
		want, err := tlog.TreeHash(int64(c.Seq-1), ref)
		if err != nil {
			t.Fatal(err)
		}
		if text[2] != want.String() { // tlog.Hash prints as standard base64
			t.Fatalf("checkpoint at seq %d: root %s, tlog computes %s", c.Seq, text[2], want)
		}
	}
	last := tr.Checkpoints[len(tr.Checkpoints)-1]
	for seq := uint64(1); seq <= last.Size; seq++ {
		p, err := tr.ProveRecord(seq, last.Size)
		if err != nil {
			t.Fatal(err)
		}
		if err := tlog.CheckRecord(p, int64(last.Size), tlog.Hash(last.Root), int64(seq-1), tlog.RecordHash(recs[seq-1])); err != nil {
			t.Fatalf("inclusion of %d in %d: %v", seq, last.Size, err)
		}
		if seq > 1 && tlog.CheckRecord(p, int64(last.Size), tlog.Hash(last.Root), int64(seq-2), tlog.RecordHash(recs[seq-1])) == nil {
			t.Fatalf("the proof of record %d proves record %d too", seq, seq-1)
		}
	}
	for _, old := range tr.Checkpoints[:len(tr.Checkpoints)-1] {
		p, err := tr.ProveTree(old.Size, last.Size)
		if err != nil {
			t.Fatal(err)
		}
		if err := tlog.CheckTree(p, int64(last.Size), tlog.Hash(last.Root), int64(old.Size), tlog.Hash(old.Root)); err != nil {
			t.Fatalf("consistency of %d with %d: %v", old.Size, last.Size, err)
		}
		other := old.Root
		other[0] ^= 1
		if tlog.CheckTree(p, int64(last.Size), tlog.Hash(last.Root), int64(old.Size), tlog.Hash(other)) == nil {
			t.Fatal("a consistency proof accepted another old root")
		}
	}
}

// TestVerifyCopyOffline: a trail copied to another directory verifies
// with the public key alone, every record covered by a signature.
func TestVerifyCopyOffline(t *testing.T) {
	dir := signedTrail(t, 30, func(c *Config) { c.MaxFileSize = 2048 })
	copyDir := t.TempDir()
	files, _ := Files(dir)
	for _, f := range files {
		b, _ := os.ReadFile(f)
		os.WriteFile(filepath.Join(copyDir, filepath.Base(f)), b, 0o600)
	}
	r := verifyOffline(t, copyDir, testSigner.VerifierKey())
	if r.Problem != nil || !r.SignaturesChecked || r.Signed < 6 || r.Tree.Size != r.LastSeq-1 || r.Origin != testSigner.Name() {
		t.Fatalf("offline: %+v %v", r, r.Problem)
	}
}

// rechainEdit rewrites the trail's lines from record k on as someone who can
// recompute the chain (anyone) but not sign: each prev made right again.
func rechainEdit(t *testing.T, dir string, edit func(seq int, line []byte) []byte) {
	t.Helper()
	files, _ := Files(dir)
	var prev [32]byte
	seq := 0
	for _, f := range files {
		var out []byte
		eachLine(f, func(l []byte) {
			seq++
			l = append([]byte(nil), l...)
			if seq > 1 {
				copy(l[len(l)-66:len(l)-2], hex.EncodeToString(prev[:]))
			}
			l = edit(seq, l)
			prev = sha256.Sum256(l)
			out = append(append(out, l...), '\n')
		})
		if err := os.WriteFile(f, out, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// TestEditedRecordIsCaughtBySignatures: an edit with the chain made
// right again passes every check but the signatures, which name the
// first checkpoint after it.
func TestEditedRecordIsCaughtBySignatures(t *testing.T) {
	dir := signedTrail(t, 30)
	edited := 0
	rechainEdit(t, dir, func(seq int, l []byte) []byte {
		if seq >= 12 && edited == 0 && bytes.Contains(l, []byte(`"uid":1000`)) {
			edited = seq
			return bytes.Replace(l, []byte(`"uid":1000`), []byte(`"uid":1001`), 1)
		}
		return l
	})
	r := verifyOffline(t, dir, testSigner.VerifierKey())
	if r.Problem == nil || !strings.Contains(r.Problem.Reason, "not those the checkpoint signed") || r.Problem.Seq <= uint64(edited) || r.Problem.Seq > uint64(edited)+7 {
		t.Fatalf("edited record %d: %v", edited, r.Problem)
	}
}

// TestRemovedMiddleFile: the records of a file taken out of the middle
// are missing from the chain, and the first fault says so.
func TestRemovedMiddleFile(t *testing.T) {
	dir := signedTrail(t, 40, func(c *Config) { c.MaxFileSize = 2048 })
	files, _ := Files(dir)
	if len(files) < 4 {
		t.Fatalf("%d files", len(files))
	}
	os.Remove(files[2])
	r := verifyOffline(t, dir, testSigner.VerifierKey())
	if r.Problem == nil || !strings.Contains(r.Problem.Reason, "were removed") || r.Problem.File != files[3] {
		t.Fatalf("a middle file removed: %v", r.Problem)
	}
}

// TestOtherKeyIsRefused: a trail signed with another key (the same name)
// does not verify with the trail's public key, nor does one checked with
// another key.
func TestOtherKeyIsRefused(t *testing.T) {
	other := mustSigner(testSigner.Name(), bytes.Repeat([]byte{10}, 32))
	vkey := other.VerifierKey()
	dir := t.TempDir()
	w := open(t, dir, &memStore{}, func(c *Config) { c.Signer = other; c.CheckpointCount = 5 })
	for i := range 12 {
		w.Append(call(i))
	}
	w.Close()
	r := verifyOffline(t, dir, testSigner.VerifierKey())
	if r.Problem == nil || !strings.Contains(r.Problem.Reason, "not signed by the trail's key") {
		t.Fatalf("signed by another key: %v", r.Problem)
	}
	if r := verifyOffline(t, dir, vkey); r.Problem != nil {
		t.Fatalf("with its own key: %v", r.Problem)
	}
}

// TestRewrittenAndResignedIsCaughtByExports: a root user who holds
// kmsd's signing key rewrites the trail and signs it again: the public
// key alone cannot tell, every checkpoint exported before can.
func TestRewrittenAndResignedIsCaughtByExports(t *testing.T) {
	exportDir := t.TempDir()
	export, err := ExportToDir(exportDir, testSigner.Name())
	if err != nil {
		t.Fatal(err)
	}
	withExport := func(c *Config) { c.Export = export; c.Sync = SyncBatch }
	dir := signedTrail(t, 30, withExport)
	exported, err := ReadExported([]string{exportDir}, testVerifiers(t))
	if err != nil || len(exported) < 3 {
		t.Fatalf("%d exported checkpoints: %v", len(exported), err)
	}
	if r := verifyOffline(t, dir, testSigner.VerifierKey(), exported...); r.Problem != nil || r.Exported != len(exported) {
		t.Fatalf("the true trail against its exports: %v (%d of %d checked)", r.Problem, r.Exported, len(exported))
	}

	// The forger writes another history with the same key, and puts it
	// in the trail's place.
	forged := t.TempDir()
	w := open(t, forged, &memStore{}, func(c *Config) { c.CheckpointCount = 5 })
	for i := range 30 {
		e := call(i)
		if i == 7 {
			e.Name = "DescribeKey"
		}
		if err := w.Append(e); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	if r := verifyOffline(t, forged, testSigner.VerifierKey()); r.Problem != nil {
		t.Fatalf("the forged trail should pass on the key alone: %v", r.Problem)
	}
	r := verifyOffline(t, forged, testSigner.VerifierKey(), exported...)
	if r.Problem == nil || !strings.Contains(r.Problem.Reason, "exported at") {
		t.Fatalf("the forged trail against the exports: %v", r.Problem)
	}
}

// TestCutTrailContradictsExports: records cut off the end while kmsd was
// stopped are reported by the trail itself, and the exports prove what
// was there.
func TestCutTrailContradictsExports(t *testing.T) {
	exportDir := t.TempDir()
	export, _ := ExportToDir(exportDir, testSigner.Name())
	st := &memStore{}
	dir := t.TempDir()
	w := open(t, dir, st, func(c *Config) { c.Export = export; c.Sync = SyncBatch; c.CheckpointCount = 5 })
	for i := range 30 {
		w.Append(call(i))
	}
	w.Close()
	files, _ := Files(dir)
	b, _ := os.ReadFile(files[0])
	cut := bytes.Index(b, []byte(`"seq":20,`))
	cut = bytes.LastIndexByte(b[:cut], '\n') + 1
	os.WriteFile(files[0], b[:cut], 0o600)
	w = open(t, dir, st, func(c *Config) { c.Export = export; c.Sync = SyncBatch; c.CheckpointCount = 5 })
	for i := range 5 {
		w.Append(call(100 + i))
	}
	w.Close()
	exported, err := ReadExported([]string{exportDir}, testVerifiers(t))
	if err != nil {
		t.Fatal(err)
	}
	r := verifyOffline(t, dir, testSigner.VerifierKey(), exported...)
	if r.Problem == nil || !strings.Contains(r.Problem.Reason, "exported at") || len(r.Gaps) != 1 {
		t.Fatalf("a cut trail against its exports: %v, gaps %v", r.Problem, r.Gaps)
	}
}

// TestRetiredTrailVerifiesFromItsTree: after retention removed the
// oldest files, the trail's signed checkpoints are checked from the tree
// its first file's open record carries; exports older than that file
// are counted as not checkable, the newer ones checked.
func TestRetiredTrailVerifiesFromItsTree(t *testing.T) {
	exportDir := t.TempDir()
	export, _ := ExportToDir(exportDir, testSigner.Name())
	st := &memStore{}
	dir := t.TempDir()
	w := open(t, dir, st, func(c *Config) {
		c.MaxFileSize = 8 << 10
		c.RetainBytes = 24 << 10
		c.CheckpointCount = 20
		c.Export = export
		c.Sync = SyncBatch
	})
	for i := range 400 {
		if err := w.Append(call(i)); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	files, _ := Files(dir)
	exported, _ := ReadExported([]string{exportDir}, testVerifiers(t))
	vs := testVerifiers(t)
	r, err := Verify(files, VerifyOptions{RetiredSeq: st.retiredSeq, RetiredHash: st.retiredHash, Verifiers: vs, Exported: exported})
	if err != nil || r.Problem != nil || r.Signed == 0 || r.FirstSeq == 1 || r.ExportedOlder == 0 || r.Exported == 0 {
		t.Fatalf("retired trail: %v %v (signed %d, first %d, exports %d checked %d older)", err, r.Problem, r.Signed, r.FirstSeq, r.Exported, r.ExportedOlder)
	}
	// Offline, the public key alone: the signed AuditRetired record
	// vouches for where the trail begins.
	if r, _ := Verify(files, VerifyOptions{Verifiers: vs, Exported: exported}); r.Problem != nil || r.Signed == 0 {
		t.Fatalf("retired trail offline: %v", r.Problem)
	}
	// Without it (its first file removed too), the records are missing.
	if r, _ := Verify(files[1:], VerifyOptions{Verifiers: vs}); r.Problem == nil || !strings.Contains(r.Problem.Reason, "no signed AuditRetired") {
		t.Fatalf("first file removed as well: %v", r.Problem)
	}
	tr, err := OpenTrail(files)
	if err != nil {
		t.Fatal(err)
	}
	last := tr.Checkpoints[len(tr.Checkpoints)-1]
	for seq := tr.first; seq <= last.Size; seq++ {
		p, err := tr.ProveRecord(seq, last.Size)
		if err != nil {
			t.Fatalf("record %d (the first file begins at %d): %v", seq, tr.first, err)
		}
		rec, _ := tr.Record(seq)
		if err := tlog.CheckRecord(p, int64(last.Size), tlog.Hash(last.Root), int64(seq-1), tlog.RecordHash(rec)); err != nil {
			t.Fatalf("a proof from a retired trail: %v", err)
		}
	}
}

// TestResumeKeepsTheTree: a trail continued after a restart signs
// checkpoints that extend the ones before.
func TestResumeKeepsTheTree(t *testing.T) {
	st := &memStore{}
	dir := t.TempDir()
	for round := range 3 {
		w := open(t, dir, st, func(c *Config) { c.CheckpointCount = 5; c.MaxFileSize = 3000 })
		for i := range 12 {
			w.Append(call(round*100 + i))
		}
		w.Close()
	}
	if r := verifyOffline(t, dir, testSigner.VerifierKey()); r.Problem != nil || r.Signed < 6 {
		t.Fatalf("%v (%d signed)", r.Problem, r.Signed)
	}
	// The files gone, the trail goes on from the tree kmsd saved.
	files, _ := Files(dir)
	for _, f := range files {
		os.Remove(f)
	}
	w := open(t, dir, st, func(c *Config) { c.CheckpointCount = 5 })
	for i := range 6 {
		w.Append(call(i))
	}
	w.Close()
	files, _ = Files(dir)
	tr, err := OpenTrail(files)
	if err != nil || tr.first == 1 || len(tr.Checkpoints) == 0 {
		t.Fatalf("after the files were lost: %v", err)
	}
	if r := verifyOffline(t, dir, testSigner.VerifierKey()); r.Problem == nil || !strings.Contains(r.Problem.Reason, "are missing") {
		t.Fatalf("the lost records are reported: %v", r.Problem)
	}
	// What the new trail signs is the old tree extended.
	last := tr.Checkpoints[len(tr.Checkpoints)-1]
	if h, err := tr.TreeHash(last.Size); err != nil || [32]byte(h) != last.Root {
		t.Fatalf("the new trail's checkpoint of %d records: %v", last.Size, err)
	}
}

func TestExportedJournalLines(t *testing.T) {
	signed, err := testSigner.signCheckpoint(3, [32]byte{1})
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "x.checkpoints.jsonl")
	line := `{"MESSAGE":"audit checkpoint","KMSD_AUDIT_CHECKPOINT":` + string(appendString(nil, string(signed))) + "}\n"
	os.WriteFile(f, []byte(line), 0o600)
	got, err := ReadExported([]string{f}, testVerifiers(t))
	if err != nil || len(got) != 1 || got[0].Size != 3 || got[0].Root != [32]byte{1} {
		t.Fatalf("%v %v", got, err)
	}
	// journalctl writes a value it deems unprintable as its bytes.
	var list []string
	for _, c := range signed {
		list = append(list, strconv.Itoa(int(c)))
	}
	nums := "[" + strings.Join(list, ",") + "]"
	os.WriteFile(f, []byte(`{"KMSD_AUDIT_CHECKPOINT":`+nums+"}\n"), 0o600)
	if got, err := ReadExported([]string{f}, testVerifiers(t)); err != nil || len(got) != 1 || got[0].Size != 3 {
		t.Fatalf("journalctl's byte arrays: %v %v", got, err)
	}
	other := mustSigner(testSigner.Name(), bytes.Repeat([]byte{10}, 32))
	signed, _ = other.signCheckpoint(3, [32]byte{1})
	os.WriteFile(f, []byte(`{"time":"x","checkpoint":`+string(appendString(nil, string(signed)))+"}\n"), 0o600)
	if _, err := ReadExported([]string{f}, testVerifiers(t)); err == nil {
		t.Fatal("an export signed by another key was taken")
	}
}

func FuzzOpenCheckpoint(f *testing.F) {
	signed, _ := testSigner.signCheckpoint(7, [32]byte{3})
	f.Add(signed)
	f.Add([]byte("o\n1\nAAAA\n\n— o AAAA\n"))
	vs := testVerifiers(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := OpenCheckpoint(b, vs)
		if err == nil && (c.Origin != testSigner.Name() || !bytes.Contains(b, []byte(CheckpointText(c.Origin, c.Size, c.Root)))) {
			t.Fatalf("%q opened as %+v", b, c)
		}
		OpenCheckpoint(b, nil)
	})
}

// TestProofsOfEveryRecordAndSize: for each tree size of a trail, every
// record's inclusion proof and every older size's consistency proof
// check with tlog against the root tlog computes itself.
func TestProofsOfEveryRecordAndSize(t *testing.T) {
	dir := signedTrail(t, 16)
	files, _ := Files(dir)
	tr, err := OpenTrail(files)
	if err != nil {
		t.Fatal(err)
	}
	recs := lines(t, dir)
	ref := &tlogStore{}
	for i, l := range recs {
		ref.add(t, int64(i), l)
	}
	for size := uint64(1); size <= tr.Last; size++ {
		root, err := tlog.TreeHash(int64(size), ref)
		if err != nil {
			t.Fatal(err)
		}
		if h, err := tr.TreeHash(size); err != nil || h != root {
			t.Fatalf("tree of %d: %v", size, err)
		}
		for seq := uint64(1); seq <= size; seq++ {
			p, err := tr.ProveRecord(seq, size)
			if err != nil {
				t.Fatal(err)
			}
			if err := tlog.CheckRecord(p, int64(size), root, int64(seq-1), tlog.RecordHash(recs[seq-1])); err != nil {
				t.Fatalf("record %d in %d: %v", seq, size, err)
			}
			old, _ := tlog.TreeHash(int64(seq), ref)
			tp, err := tr.ProveTree(seq, size)
			if err != nil {
				t.Fatal(err)
			}
			if err := tlog.CheckTree(tp, int64(size), root, int64(seq), old); err != nil {
				t.Fatalf("%d extends %d: %v", size, seq, err)
			}
		}
	}
	if _, err := tr.ProveRecord(tr.Last+1, tr.Last+1); err == nil {
		t.Fatal("a proof past the trail's end")
	}
}
