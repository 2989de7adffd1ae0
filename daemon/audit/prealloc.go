package audit

import (
	"os"

	"golang.org/x/sys/unix"
)

// preallocChunk is how much disk is reserved for the current file at a
// time, ahead of the writes, by a goroutine of its own: blocks allocated
// beyond the end of the file (fallocate with FALLOC_FL_KEEP_SIZE), so that
// an append finds its blocks ready. The file's size is only ever that of
// its whole records, so readers (tail -f, grep, jq) never see padding.
// Earlier kmsd versions padded with zeros instead; readers still skip a
// tail of zeros.
const preallocChunk = 16 << 20

// prealloc keeps the next chunk of blocks reserved ahead of the file's
// end, in the background; if the filesystem cannot reserve, the writer
// simply appends.
func (w *Writer) prealloc(n int64) {
	if w.noPrealloc {
		return
	}
	w.settle()
	if w.ahead != nil || w.reserved-(w.size+n) > preallocChunk/2 {
		return
	}
	// No further than the file will grow before it is rotated.
	f, from := w.f, max(w.reserved, w.size)
	to := min(from+preallocChunk, w.cfg.MaxFileSize+preallocChunk/16)
	if to <= from {
		return
	}
	ch := make(chan reserved, 1)
	w.ahead = ch
	go func() { ch <- reserved{end: to, err: fallocate(f, from, to)} }()
}

// reserved is the outcome of a reservation made in the background.
type reserved struct {
	end int64
	err error
}

// settle takes a reservation made in the background, if one is done.
func (w *Writer) settle() {
	if w.ahead == nil {
		return
	}
	select {
	case r := <-w.ahead:
		w.ahead = nil
		if r.err != nil {
			w.noPrealloc = true
			w.cfg.Logger.Warn("audit: cannot reserve space for the trail ahead of its writes; appending instead", "err", r.err)
			return
		}
		w.reserved = max(w.reserved, r.end)
	default:
	}
}

// waitReserve waits for a reservation in the background to be done.
func (w *Writer) waitReserve() {
	if w.ahead != nil {
		r := <-w.ahead
		w.ahead = nil
		if r.err == nil {
			w.reserved = max(w.reserved, r.end)
		}
	}
}

// fallocate reserves [from, to) of f without changing its size.
func fallocate(f *os.File, from, to int64) error {
	return unix.Fallocate(int(f.Fd()), unix.FALLOC_FL_KEEP_SIZE, from, to-from)
}

// trim gives back the blocks reserved past the file's records and syncs
// it.
func (w *Writer) trim() error {
	w.waitReserve()
	if err := w.f.Truncate(w.size); err != nil {
		return err
	}
	w.reserved = w.size
	return fdatasync(w.f)
}
