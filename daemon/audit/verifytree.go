package audit

import (
	"encoding/json"
	"fmt"
	"slices"
)

// What Verify checks of the Merkle tree (merkle.go) and the signed
// checkpoints (note.go), record by record: the tree it builds from the
// records must be the one each file's open record carries, each signed
// checkpoint's (its size, its root, its signature under the trail's key,
// one origin throughout), and each exported checkpoint's. Successive
// signed checkpoints are then consistent by construction: each is a
// prefix of the one tree the records make.

// ExportedCheckpoint is a signed checkpoint found outside the trail.
type ExportedCheckpoint struct {
	Checkpoint
	Where string // the file and line it was read from
}

// treeRecord checks a record against the tree and adds it to the tree;
// it returns the problem, or "".
func (v *verifier) treeRecord(p parsed, line []byte) string {
	if v.r.Records == 0 {
		if why := v.startTree(p); why != "" {
			return why
		}
	} else if p.Tree != "" {
		var t Tree
		if err := t.UnmarshalText([]byte(p.Tree)); err != nil || v.tree != nil && !slices.Equal(t.edges, v.tree.edges) || t.size != p.Seq-1 {
			return "the tree this file's open record carries is not the tree of the records before it"
		}
	}
	if v.tree == nil {
		if p.Signed != "" && v.o.Verifiers != nil {
			return "the trail's first file carries no Merkle tree: its signed checkpoints cannot be checked"
		}
		return ""
	}
	if why := v.exportsAt(v.tree.Size()); why != "" {
		return why
	}
	if p.Type == TypeCheckpoint {
		if why := v.signedCheckpoint(p); why != "" {
			return why
		}
	}
	v.tree.Append(LeafHash(line))
	return ""
}

// startTree takes the tree the trail's first record continues: none at
// seq 1, or the one its open record carries.
func (v *verifier) startTree(p parsed) string {
	switch {
	case p.Seq == 1:
		v.tree = &Tree{}
	case p.Tree != "":
		t := &Tree{}
		if err := t.UnmarshalText([]byte(p.Tree)); err != nil || t.Size() != p.Seq-1 {
			return "the tree the first file's open record carries is broken"
		}
		v.tree = t
	}
	for v.exported < len(v.o.Exported) && v.o.Exported[v.exported].Size < p.Seq-1 {
		v.exported++
		v.r.ExportedOlder++
	}
	return ""
}

// exportsAt checks the exported checkpoints of a tree of size n.
func (v *verifier) exportsAt(n uint64) string {
	for ; v.exported < len(v.o.Exported) && v.o.Exported[v.exported].Size == n; v.exported++ {
		e := v.o.Exported[v.exported]
		if e.Root != v.tree.Root() {
			return fmt.Sprintf("the records 1 to %d are not those of the checkpoint exported at %s: the trail was rewritten after it was exported", n, e.Where)
		}
		v.r.Exported++
	}
	return ""
}

// signedCheckpoint checks a checkpoint record's signed checkpoint: the
// tree of every record before it, signed by the trail's key.
func (v *verifier) signedCheckpoint(p parsed) string {
	if p.Signed == "" {
		if v.r.Signed > 0 {
			return "a checkpoint without a signature after signed ones: it was forged"
		}
		return "" // written before kmsd signed its checkpoints
	}
	var signed string
	if err := json.Unmarshal([]byte(`"`+p.Signed+`"`), &signed); err != nil {
		return "the signed checkpoint is not readable"
	}
	c, err := OpenCheckpoint([]byte(signed), v.o.Verifiers)
	switch {
	case err != nil:
		return err.Error()
	case v.r.Origin != "" && c.Origin != v.r.Origin:
		return fmt.Sprintf("the checkpoint names the trail %q where the ones before named %q", c.Origin, v.r.Origin)
	case c.Size != v.tree.Size():
		return fmt.Sprintf("the signed checkpoint is of %d records where %d come before it", c.Size, v.tree.Size())
	case c.Root != v.tree.Root():
		return "the records up to here are not those the checkpoint signed: they were changed"
	}
	v.r.Signed++
	v.r.Origin, v.r.Tree = c.Origin, c
	return ""
}

// endTree checks the exported checkpoints left once every record is read.
func (v *verifier) endTree() string {
	if v.tree == nil {
		return ""
	}
	if why := v.exportsAt(v.tree.Size()); why != "" {
		return why
	}
	if v.exported < len(v.o.Exported) {
		e := v.o.Exported[v.exported]
		return fmt.Sprintf("the trail ends at seq %d, before the checkpoint exported at %s (of %d records): records were cut off its end (or this copy is older than that export)", v.seq, e.Where, e.Size)
	}
	return ""
}
