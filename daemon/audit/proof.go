package audit

import (
	"encoding/json"
	"errors"
	"fmt"

	"golang.org/x/mod/sumdb/tlog"
)

// Proofs are made by golang.org/x/mod/sumdb/tlog (RFC 6962's algorithms)
// from the hashes of the tree's perfect subtrees it asks for, which
// Trail computes from the files in one pass: its memory is a few hashes
// per subtree asked for, not per record, however long the trail.

// Trail is a trail's files, read to prove things about its tree.
type Trail struct {
	files []string
	// start is the tree of the records before the first file's (from its
	// open record); first is the seq of the first record.
	start *Tree
	first uint64
	// Checkpoints are the signed checkpoints the trail carries, in order.
	Checkpoints []SignedCheckpoint
	// Last is the seq of the last record.
	Last uint64
}

// SignedCheckpoint is a signed checkpoint found in a trail: the seq of
// its record, and the note (what it says is read, its signature not
// checked).
type SignedCheckpoint struct {
	Seq    uint64
	Signed []byte
	Checkpoint
}

// OpenTrail reads a trail's files once to find where its tree begins and
// its signed checkpoints.
func OpenTrail(files []string) (*Trail, error) {
	t := &Trail{files: files}
	var bad error
	for _, name := range files {
		err := eachLine(name, func(line []byte) {
			if bad != nil {
				return
			}
			p, ok := parse(line)
			if !ok {
				bad = fmt.Errorf("a line after seq %d is not a record", t.Last)
				return
			}
			if t.start == nil {
				t.first = p.Seq
				t.start = &Tree{}
				if p.Seq != 1 {
					if err := t.start.UnmarshalText([]byte(p.Tree)); err != nil || t.start.Size() != p.Seq-1 {
						bad = fmt.Errorf("the trail begins at seq %d without the tree of the records before it", p.Seq)
						return
					}
				}
			}
			t.Last = p.Seq
			if p.Type == TypeCheckpoint && p.Signed != "" {
				var signed string
				if err := json.Unmarshal([]byte(`"`+p.Signed+`"`), &signed); err != nil {
					bad = fmt.Errorf("the signed checkpoint at seq %d is not readable", p.Seq)
					return
				}
				c, err := OpenCheckpoint([]byte(signed), nil)
				if err != nil {
					bad = fmt.Errorf("the signed checkpoint at seq %d: %w", p.Seq, err)
					return
				}
				t.Checkpoints = append(t.Checkpoints, SignedCheckpoint{Seq: p.Seq, Signed: []byte(signed), Checkpoint: c})
			}
		})
		if err == nil {
			err = bad
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	if t.start == nil {
		return nil, errors.New("the trail holds no records")
	}
	return t, nil
}

// Checkpoint returns the trail's signed checkpoint of a tree of size
// (0: the last one).
func (t *Trail) Checkpoint(size uint64) (SignedCheckpoint, error) {
	if len(t.Checkpoints) == 0 {
		return SignedCheckpoint{}, errors.New("the trail holds no signed checkpoint")
	}
	if size == 0 {
		return t.Checkpoints[len(t.Checkpoints)-1], nil
	}
	for _, c := range t.Checkpoints {
		if c.Size == size {
			return c, nil
		}
	}
	return SignedCheckpoint{}, fmt.Errorf("the trail holds no signed checkpoint of %d records", size)
}

// Record returns the line of record seq.
func (t *Trail) Record(seq uint64) ([]byte, error) {
	var out []byte
	for _, name := range t.files {
		err := eachLine(name, func(line []byte) {
			if out == nil {
				if p, ok := parse(line); ok && p.Seq == seq {
					out = append([]byte(nil), line...)
				}
			}
		})
		if err != nil || out != nil {
			return out, err
		}
	}
	return nil, fmt.Errorf("record %d is not in the trail's files", seq)
}

// ProveRecord returns the proof that record seq is in the tree of size.
func (t *Trail) ProveRecord(seq, size uint64) (tlog.RecordProof, error) {
	if seq == 0 || seq > size {
		return nil, fmt.Errorf("record %d is not in a tree of %d records", seq, size)
	}
	if err := t.within(size); err != nil {
		return nil, err
	}
	return prove(t, func(r tlog.HashReader) ([]tlog.Hash, error) {
		return tlog.ProveRecord(int64(size), int64(seq-1), r)
	})
}

// ProveTree returns the proof that the tree of size extends the tree of
// old.
func (t *Trail) ProveTree(old, size uint64) (tlog.TreeProof, error) {
	if old == 0 || old > size {
		return nil, fmt.Errorf("a tree of %d records does not extend one of %d", size, old)
	}
	if err := t.within(size); err != nil {
		return nil, err
	}
	return prove(t, func(r tlog.HashReader) ([]tlog.Hash, error) {
		return tlog.ProveTree(int64(size), int64(old), r)
	})
}

// TreeHash returns the root of the tree of size.
func (t *Trail) TreeHash(size uint64) (tlog.Hash, error) {
	if err := t.within(size); err != nil {
		return tlog.Hash{}, err
	}
	h, err := prove(t, func(r tlog.HashReader) ([]tlog.Hash, error) {
		h, err := tlog.TreeHash(int64(size), r)
		return []tlog.Hash{h}, err
	})
	if err != nil {
		return tlog.Hash{}, err
	}
	return h[0], nil
}

// within refuses a tree larger than the trail.
func (t *Trail) within(size uint64) error {
	if size > t.Last {
		return fmt.Errorf("the trail holds %d records, not %d", t.Last, size)
	}
	return nil
}

// prove runs a tlog function twice: first to learn which subtree hashes
// it reads, then, once one pass over the files has computed them, for
// its answer.
func prove(t *Trail, run func(tlog.HashReader) ([]tlog.Hash, error)) ([]tlog.Hash, error) {
	var asked []int64
	if _, err := run(tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		asked = append(asked, idx...)
		return make([]tlog.Hash, len(idx)), nil
	})); err != nil {
		return nil, err
	}
	hashes, err := t.subtrees(asked)
	if err != nil {
		return nil, err
	}
	return run(tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		for i, x := range idx {
			out[i] = hashes[x]
		}
		return out, nil
	}))
}

// subtrees computes the hashes of perfect subtrees, by their tlog stored
// hash indexes, in one pass over the files: each from the leaves it
// covers, or, for one wholly before the first file, from the tree its
// open record carries (which holds it if the proof needs it at all).
func (t *Trail) subtrees(indexes []int64) (map[int64]tlog.Hash, error) {
	type want struct {
		index  int64
		lo, hi uint64
		tree   Tree
	}
	out := make(map[int64]tlog.Hash, len(indexes))
	var todo []*want
	for _, x := range indexes {
		level, n := tlog.SplitStoredHashIndex(x)
		w := &want{index: x, lo: uint64(n) << level, hi: uint64(n+1) << level}
		if w.hi > t.Last {
			return nil, fmt.Errorf("records %d to %d are past the trail's end", w.lo+1, w.hi)
		}
		if w.lo < t.first-1 {
			// Before the first file: an edge of the tree it carries, or
			// (a subtree the first file's records complete) the edges
			// from lo on, which then make its tree's start.
			ok := false
			for _, e := range t.start.Edge() {
				switch {
				case e.Lo == w.lo && e.Height == level:
					out[x], ok = e.Hash, true
				case e.Lo >= w.lo && w.hi > t.first-1:
					w.tree.edges = append(w.tree.edges, e.Hash)
					w.tree.size += 1 << e.Height
					ok = true
				}
			}
			if !ok || w.tree.size != 0 && w.lo+w.tree.size != t.first-1 {
				return nil, fmt.Errorf("the proof needs records %d to %d, before the trail's first file (retired)", w.lo+1, w.hi)
			}
			if w.tree.size == 0 {
				continue
			}
		}
		todo = append(todo, w)
	}
	leaf := t.first - 1
	for _, name := range t.files {
		err := eachLine(name, func(line []byte) {
			h := LeafHash(line)
			for _, w := range todo {
				if leaf >= w.lo && leaf < w.hi {
					w.tree.Append(h)
				}
			}
			leaf++
		})
		if err != nil {
			return nil, err
		}
	}
	for _, w := range todo {
		if w.tree.Size() != w.hi-w.lo {
			return nil, fmt.Errorf("records %d to %d are not all in the trail's files", w.lo+1, w.hi)
		}
		out[w.index] = w.tree.Root()
	}
	return out, nil
}
