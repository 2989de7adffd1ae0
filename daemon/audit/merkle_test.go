package audit

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"testing"

	"golang.org/x/mod/sumdb/tlog"
)

// tlogStore is the tree tlog builds itself, record by record: the
// reference Tree is checked against.
type tlogStore struct{ hashes []tlog.Hash }

func (s *tlogStore) ReadHashes(idx []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(idx))
	for i, x := range idx {
		out[i] = s.hashes[x]
	}
	return out, nil
}

func (s *tlogStore) add(t testing.TB, n int64, data []byte) {
	hs, err := tlog.StoredHashes(n, data, s)
	if err != nil {
		t.Fatal(err)
	}
	s.hashes = append(s.hashes, hs...)
}

func TestTreeMatchesTlog(t *testing.T) {
	var tree Tree
	ref := &tlogStore{}
	for n := int64(0); n <= 300; n++ {
		want, err := tlog.TreeHash(n, ref)
		if err != nil {
			t.Fatal(err)
		}
		if got := tree.Root(); got != [32]byte(want) {
			t.Fatalf("root of %d leaves: %x, tlog says %x", n, got, want)
		}
		// The text form round-trips, and a tree read back grows the same.
		text, _ := tree.MarshalText()
		var back Tree
		if err := back.UnmarshalText(text); err != nil || back.Root() != tree.Root() || back.Size() != tree.Size() {
			t.Fatalf("%d leaves: %q read back as %v (%v)", n, text, back, err)
		}
		data := fmt.Appendf(nil, `{"record":%d}`, n)
		if LeafHash(data) != [32]byte(tlog.RecordHash(data)) {
			t.Fatal("LeafHash differs from tlog.RecordHash")
		}
		tree.Append(LeafHash(data))
		ref.add(t, n, data)
	}
}

// RFC 6962's empty tree is the SHA-256 of nothing.
func TestTreeEmptyRoot(t *testing.T) {
	var tree Tree
	if got := fmt.Sprintf("%x", tree.Root()); got != "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" {
		t.Fatal(got)
	}
}

func TestTreeTextRefused(t *testing.T) {
	var tree Tree
	for _, bad := range []string{"", ":", "1", "1:", "x:00", "2:" + string(bytes.Repeat([]byte("0"), 63)),
		"3:" + string(bytes.Repeat([]byte("0"), 64)), "99999999999999999999999:", "1:" + string(bytes.Repeat([]byte("g"), 64))} {
		if err := tree.UnmarshalText([]byte(bad)); err == nil {
			t.Errorf("%q read as a tree", bad)
		}
	}
}

func FuzzTreeText(f *testing.F) {
	var tree Tree
	for i := range 7 {
		text, _ := tree.MarshalText()
		f.Add(text)
		tree.Append(LeafHash([]byte{byte(i)}))
	}
	f.Add([]byte("18446744073709551615:"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var tr Tree
		if tr.UnmarshalText(b) != nil {
			return
		}
		again, _ := tr.MarshalText()
		if !bytes.EqualFold(again, b) {
			t.Fatalf("%q read back as %q", b, again)
		}
		tr.Append(LeafHash(b))
		tr.Root()
	})
}

// BenchmarkRecordTree is what the tree adds to each record the writer
// writes: its leaf hash and its place in the tree, for a 300-byte line;
// Raw/chain is the chain's own SHA-256 of the same line, beside it.
func BenchmarkRecordTree(b *testing.B) {
	line := bytes.Repeat([]byte("x"), 300)
	b.Run("tree", func(b *testing.B) {
		var tree Tree
		b.SetBytes(int64(len(line)))
		for b.Loop() {
			tree.Append(LeafHash(line))
		}
	})
	b.Run("raw/chain", func(b *testing.B) {
		b.SetBytes(int64(len(line)))
		for b.Loop() {
			sha256.Sum256(line)
		}
	})
	b.Run("checkpoint", func(b *testing.B) { // once a second: the root and the signature
		s := newTestSigner()
		var tree Tree
		for i := range 1 << 20 {
			tree.Append(LeafHash([]byte{byte(i)}))
		}
		for b.Loop() {
			if _, err := s.signCheckpoint(tree.Size(), tree.Root()); err != nil {
				b.Fatal(err)
			}
		}
	})
}
