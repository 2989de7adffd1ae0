package audit

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Retention: with Config.RetainBytes or Config.RetainAge set, kmsd removes
// the oldest files of the trail (never the current one) once the trail
// passes that size, or once a file's last record is older than that. A
// file is retired in this order, so that nothing is ever lost unsaid:
//
//  1. the seq and hash of its last record are saved in kmsd's store
//     (SaveRetired): verification then expects the trail to begin just
//     after it, chained to that hash;
//  2. the file is removed;
//  3. an AuditRetired record says which file, which records and why.
//
// A file removed by anyone else is a gap, as before.

// retire removes what the retention settings no longer keep. The caller
// holds w.mu; it runs after a rotation.
func (w *Writer) retire(now time.Time) {
	if w.cfg.RetainBytes <= 0 && w.cfg.RetainAge <= 0 {
		return
	}
	files, err := Files(w.cfg.Dir)
	if err != nil || len(files) < 2 {
		return
	}
	var total int64
	sizes := make([]int64, len(files))
	mtimes := make([]time.Time, len(files))
	for i, f := range files {
		if st, err := os.Stat(f); err == nil {
			sizes[i], mtimes[i] = st.Size(), st.ModTime()
			total += st.Size()
		}
	}
	for i, f := range files[:len(files)-1] { // the current file stays
		tooBig := w.cfg.RetainBytes > 0 && total > w.cfg.RetainBytes
		tooOld := w.cfg.RetainAge > 0 && now.Sub(mtimes[i]) > w.cfg.RetainAge
		if !tooBig && !tooOld {
			return
		}
		why := fmt.Sprintf("the trail passed %d bytes", w.cfg.RetainBytes)
		if !tooBig {
			why = fmt.Sprintf("its last record is older than %v", w.cfg.RetainAge)
		}
		if err := w.retireFile(f, why); err != nil {
			w.cfg.Logger.Error("audit: retiring an old file", "file", f, "err", err)
			return
		}
		total -= sizes[i]
	}
}

// retireFile saves where f's records end, removes f, and records it.
func (w *Writer) retireFile(f, why string) error {
	fh, err := os.Open(f)
	if err != nil {
		return err
	}
	end, err := dataEnd(fh)
	if err != nil {
		fh.Close()
		return err
	}
	line, _, err := lastLine(fh, end)
	fh.Close()
	if err != nil || line == nil {
		return fmt.Errorf("reading its last record: %v", err)
	}
	p, ok := parse(line)
	if !ok {
		return fmt.Errorf("its last record is not readable")
	}
	if w.cfg.Store == nil {
		return fmt.Errorf("no store to keep where the trail begins")
	}
	if err := w.cfg.Store.SaveRetired(p.Seq, sha256.Sum256(line)); err != nil {
		return err
	}
	if err := os.Remove(f); err != nil {
		return err
	}
	syncDir(w.cfg.Dir)
	w.cfg.Logger.Info("audit: retired an old file", "file", filepath.Base(f), "through_seq", p.Seq, "why", why)
	w.buf = w.appendLine(w.buf[:0], (&Event{Time: w.cfg.Now(), Type: TypeService, Name: "AuditRetired",
		Detail: fmt.Sprintf("%s (records to seq %d) removed by the retention settings: %s", filepath.Base(f), p.Seq, why)}).appendBody(nil))
	if _, err := w.f.WriteAt(w.buf, w.size); err != nil {
		return err
	}
	w.size += int64(len(w.buf))
	w.markDirty()
	return nil
}
