package audit

import (
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// checkFile makes sure the file kmsd writes is still part of the trail.
// A file unlinked while open (or whose directory was removed) keeps taking
// writes, which would vanish when it is closed: the records would be lost
// without a trace. checkFile, run with every checkpoint tick, finds such
// a file, copies what it holds to a new file of its name, goes on there,
// and says so in an AuditFileRestored record: nothing is lost. (A file
// removed after kmsd closed it cannot be restored; verification reports
// the records missing.) The caller holds w.mu.
func (w *Writer) checkFile() {
	var st unix.Stat_t
	if w.f == nil || unix.Fstat(int(w.f.Fd()), &st) != nil || st.Nlink > 0 {
		return
	}
	path := w.path(w.fileNo)
	w.cfg.Logger.Error("audit: the trail's current file was removed while kmsd wrote it; restoring it", "file", path)
	if err := w.restore(path); err != nil {
		w.cfg.Logger.Error("audit: restoring the trail's current file", "file", path, "err", err)
		w.downSince.Store(w.cfg.Now().UnixNano()) // refuse requests rather than record into nothing
		return
	}
	w.buf = w.appendLine(w.buf[:0], (&Event{Time: w.cfg.Now(), Type: TypeService, Name: "AuditFileRestored",
		Detail: "the file was removed while kmsd wrote it; kmsd wrote it again from what it held"}).appendBody(nil))
	if _, err := w.f.WriteAt(w.buf, w.size); err == nil {
		w.size += int64(len(w.buf))
		w.markDirty()
	}
}

// restore writes the current file's records to a new file at path and
// makes it the current file.
func (w *Writer) restore(path string) error {
	w.waitReserve()
	if err := os.MkdirAll(w.cfg.Dir, 0o700); err != nil {
		return err
	}
	tmp := path + ".restoring"
	nf, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	n, err := io.Copy(nf, io.NewSectionReader(w.f, 0, w.size))
	if err == nil && n != w.size {
		err = fmt.Errorf("copied %d of %d bytes", n, w.size)
	}
	if err == nil {
		err = fdatasync(nf)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		nf.Close()
		os.Remove(tmp)
		return err
	}
	syncDir(w.cfg.Dir)
	old := w.f
	w.f, w.reserved = nf, w.size
	w.setFlushFile(nf)
	old.Close()
	return nil
}
