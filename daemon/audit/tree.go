package audit

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// rebuildTree finds the Merkle tree of the records 1 to w.seq, the end
// of the trail's files, when kmsd starts: from the tree the newest file's
// open record carries (or an older file's, for a trail written before the
// open records carried it, or from nothing for a trail that begins at seq
// 1), it adds the records that follow. It reads the newest file, which is
// at most Config.MaxFileSize.
func (w *Writer) rebuildTree(files []string) error {
	from := -1
	var tree Tree
	for i := len(files) - 1; i >= 0 && from < 0; i-- {
		first, err := firstLine(files[i])
		if err != nil {
			return fmt.Errorf("audit: reading %s: %w", files[i], err)
		}
		p, ok := parse(first)
		switch {
		case !ok:
			return fmt.Errorf("audit: the first record of %s is not readable; move the file aside to continue", files[i])
		case p.Tree != "":
			if err := tree.UnmarshalText([]byte(p.Tree)); err != nil || tree.Size() != p.Seq-1 {
				return fmt.Errorf("audit: the open record of %s carries a broken tree; move the file aside to continue", files[i])
			}
			from = i
		case p.Seq == 1:
			from = i
		}
	}
	if from < 0 {
		return fmt.Errorf("audit: the trail in %s begins at a seq past 1 and no file carries its Merkle tree (it was written before kmsd signed its checkpoints): move its files aside to begin a new trail", w.cfg.Dir)
	}
	for _, name := range files[from:] {
		if err := eachLine(name, func(line []byte) { tree.Append(LeafHash(line)) }); err != nil {
			return fmt.Errorf("audit: reading %s: %w", name, err)
		}
	}
	if tree.Size() != w.seq {
		return fmt.Errorf("audit: the trail's files hold %d records to seq %d, which does not add up (records removed from a file?): verify the trail, and move its files aside to begin a new one", tree.Size(), w.seq)
	}
	w.tree = tree
	return nil
}

// savedTree reads the tree saved with the store's checkpoint at seq.
func (w *Writer) savedTree(t *Tree, seq uint64) error {
	text, err := w.cfg.Store.CheckpointTree()
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	if text == nil {
		return fmt.Errorf("audit: the trail's files are gone and kmsd's store has no Merkle tree for its checkpoint at seq %d (saved by a kmsd before signed checkpoints): a new trail cannot continue it", seq)
	}
	if err := t.UnmarshalText(text); err != nil || t.Size() != seq {
		return fmt.Errorf("audit: the Merkle tree saved with the checkpoint at seq %d is broken", seq)
	}
	return nil
}

// firstLine returns the first line of a file, without its newline.
func firstLine(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	line, err := bufio.NewReaderSize(f, MaxLine).ReadSlice('\n')
	if err != nil {
		return nil, err
	}
	return line[:len(line)-1], nil
}

// eachLine calls fn with each complete line of a file (without its
// newline), up to the zero padding at its end.
func eachLine(name string, fn func(line []byte)) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, MaxLine)
	for {
		line, err := br.ReadSlice('\n')
		switch {
		case len(line) > 0 && line[0] == 0:
			return nil
		case err == io.EOF:
			return nil // a last line cut short is not a record
		case err != nil:
			return fmt.Errorf("%s: %w", filepath.Base(name), err)
		}
		fn(line[:len(line)-1])
	}
}
