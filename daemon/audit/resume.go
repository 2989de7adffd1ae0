package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
)

// Files lists a trail's files in order.
func Files(dir string) ([]string, error) {
	all, err := filepath.Glob(filepath.Join(dir, "audit-*.jsonl"))
	if err != nil {
		return nil, err
	}
	slices.Sort(all) // fixed-width numbers sort in order
	return all, nil
}

// resume opens the newest file of the trail for appending and finds where
// its chain ends; a new trail starts with an open record. A last line cut
// short by a crash is removed. If the store's checkpoint is past the end
// of the files, the trail was cut short while kmsd was stopped: a service
// record says so (and the verifier will report the gap).
func (w *Writer) resume() error {
	files, err := Files(w.cfg.Dir)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return w.startAfterLoss()
	}
	last := files[len(files)-1]
	if _, err := fmt.Sscanf(filepath.Base(last), "audit-%06d.jsonl", &w.fileNo); err != nil {
		return fmt.Errorf("audit: file name %s", last)
	}
	f, err := os.OpenFile(last, os.O_RDWR, 0o600)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	data, err := dataEnd(f)
	if err != nil {
		f.Close()
		return fmt.Errorf("audit: reading %s: %w", last, err)
	}
	line, end, err := lastLine(f, data)
	if err != nil {
		f.Close()
		return fmt.Errorf("audit: reading %s: %w", last, err)
	}
	if data != end {
		w.cfg.Logger.Warn("audit: removing a record cut short by a crash", "file", last, "bytes", data-end)
	}
	if st, _ := f.Stat(); st != nil && st.Size() != end {
		if err := f.Truncate(end); err != nil {
			f.Close()
			return fmt.Errorf("audit: %w", err)
		}
	}
	if line == nil {
		f.Close()
		return fmt.Errorf("audit: %s holds no complete record; move it aside to continue", last)
	}
	var rec struct {
		Seq uint64 `json:"seq"`
	}
	if err := json.Unmarshal(line, &rec); err != nil || rec.Seq == 0 {
		f.Close()
		return fmt.Errorf("audit: the last record of %s is not readable", last)
	}
	w.f, w.size, w.reserved, w.seq, w.prev = f, end, end, rec.Seq, sha256.Sum256(line)
	if err := w.rebuildTree(files); err != nil {
		f.Close()
		return err
	}
	if w.cfg.Store != nil {
		if seq, _, ok, err := w.cfg.Store.LoadCheckpoint(); err != nil {
			return fmt.Errorf("audit: %w", err)
		} else if ok && seq > w.seq {
			w.cfg.Logger.Error("audit: the trail ends before its last checkpoint; it was cut short while kmsd was stopped",
				"trail_ends", w.seq, "checkpoint", seq)
			return w.recordLoss(fmt.Sprintf("the trail ended at seq %d but checkpoint %d had been written: records %d to %d were removed while kmsd was stopped",
				w.seq, seq, w.seq+1, seq))
		}
	}
	return nil
}

// startAfterLoss starts a trail in a directory without files. If kmsd's
// store has a checkpoint, the trail had reached it: its files were
// removed while kmsd was stopped. The new trail then goes on numbering
// after it (seq is never used twice), so that verification reports the
// records missing before it, and says so in a record and in the store.
func (w *Writer) startAfterLoss() error {
	var seq uint64
	var tree Tree
	if w.cfg.Store != nil {
		s, _, ok, err := w.cfg.Store.LoadCheckpoint()
		if err != nil {
			return fmt.Errorf("audit: %w", err)
		}
		if ok {
			seq = s
			if err := w.savedTree(&tree, seq); err != nil {
				return err
			}
		}
	}
	w.tree = tree
	if err := w.start(1, seq, [32]byte{}); err != nil || seq == 0 {
		return err
	}
	w.cfg.Logger.Error("audit: the trail's files are gone; it had reached a checkpoint at seq "+strconv.FormatUint(seq, 10), "dir", w.cfg.Dir)
	return w.recordLoss(fmt.Sprintf("the trail's files were removed while kmsd was stopped: records 1 to %d are gone", seq))
}

// recordLoss writes an AuditTrailCut record that says what was lost, and
// keeps the same in the store for good.
func (w *Writer) recordLoss(what string) error {
	if err := w.cfg.Store.NoteGap(what); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	w.buf = w.appendLine(nil, (&Event{Time: w.cfg.Now(), Type: TypeService, Name: "AuditTrailCut", Detail: what}).appendBody(nil))
	if _, err := w.f.WriteAt(w.buf, w.size); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	w.size += int64(len(w.buf))
	return nil
}

// start creates file n and writes its open record.
func (w *Writer) start(n int, seq uint64, prev [32]byte) error {
	f, err := os.OpenFile(w.path(n), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	w.f, w.fileNo, w.seq, w.prev = f, n, seq, prev
	open := w.appendOpen(nil, w.cfg.Now(), n)
	if _, err := f.WriteAt(open, 0); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	if err := fdatasync(f); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	syncDir(w.cfg.Dir)
	w.size = int64(len(open))
	return nil
}

// dataEnd returns the offset just after the last byte of f that is not
// zero padding.
func dataEnd(f *os.File) (int64, error) {
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	buf := make([]byte, 1<<16)
	for end := st.Size(); end > 0; {
		start := max(0, end-int64(len(buf)))
		b := buf[:end-start]
		if _, err := f.ReadAt(b, start); err != nil && err != io.EOF {
			return 0, err
		}
		for i := len(b) - 1; i >= 0; i-- {
			if b[i] != 0 {
				return start + int64(i) + 1, nil
			}
		}
		end = start
	}
	return 0, nil
}

// lastLine returns the last complete line of f before end (without its
// newline) and the offset just after it.
func lastLine(f *os.File, end int64) ([]byte, int64, error) {
	const chunk = 1 << 16
	for off := end; off > 0; {
		start := max(0, off-chunk)
		buf := make([]byte, end-start)
		if _, err := f.ReadAt(buf, start); err != nil && err != io.EOF {
			return nil, 0, err
		}
		nl := bytes.LastIndexByte(buf, '\n')
		if nl < 0 {
			off = start
			if start == 0 {
				return nil, 0, nil
			}
			continue
		}
		lineEnd := start + int64(nl) + 1
		body := buf[:nl]
		if prev := bytes.LastIndexByte(body, '\n'); prev >= 0 {
			return body[prev+1:], lineEnd, nil
		}
		if start == 0 {
			return body, lineEnd, nil
		}
		// The line starts before this chunk: read from its start.
		off = start
		end = lineEnd
	}
	return nil, 0, nil
}
