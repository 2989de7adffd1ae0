package audit

import "os"

// preallocChunk is how much zero padding is added to the file at a time,
// ahead of the writes, by a goroutine of its own. Overwriting padding that
// is already on the disk makes fdatasync flush data only, not the file's
// size and block map: measured on this project's virtio disk, 104 µs per
// group instead of 227 µs when appending. Fewer, larger chunks disturb the
// trail's own flushes less (16 MiB: 68% of no-audit throughput at 1,024
// callers, 4 MiB: 65%).
const preallocChunk = 16 << 20

// preallocInline is the padding written in line when none is ready: at
// the start of a file, or when writing outruns the background.
const preallocInline = 1 << 20

var zeros = make([]byte, 1<<20)

// prealloc makes sure n more bytes fit in the padding, and keeps the next
// chunk of zeros being written (and flushed) in the background, so the
// loop rarely writes padding itself. If the disk refuses, the writer
// appends.
func (w *Writer) prealloc(n int64) {
	if w.noPrealloc {
		return
	}
	need := w.size + n
	if need > w.alloc {
		w.settle()
	}
	if need > w.alloc && !w.noPrealloc {
		// Only what this write needs (and a little more) is padded in line;
		// the chunk after it follows in the background.
		from := max(w.alloc, w.size)
		if err := zeroFill(w.f, from, from+max(preallocInline, n)); err != nil {
			w.stopPrealloc(err)
			return
		}
		w.alloc = from + max(preallocInline, n)
	}
	if w.ahead == nil && !w.noPrealloc && w.alloc-need < preallocChunk/2 {
		// No further than the file will grow before it is rotated.
		f, from, to := w.f, w.alloc, min(w.alloc+preallocChunk, w.cfg.MaxFileSize+preallocInline)
		if to <= from {
			return
		}
		ch := make(chan zeroed, 1)
		w.ahead = ch
		go func() { ch <- zeroed{end: to, err: zeroFill(f, from, to)} }()
	}
}

// zeroed is the outcome of padding written in the background.
type zeroed struct {
	end int64
	err error
}

// settle waits for padding being written in the background and takes it.
func (w *Writer) settle() {
	if w.ahead == nil {
		return
	}
	z := <-w.ahead
	w.ahead = nil
	if z.err != nil {
		w.stopPrealloc(z.err)
		return
	}
	w.alloc = max(w.alloc, z.end)
}

func (w *Writer) stopPrealloc(err error) {
	w.noPrealloc = true
	w.cfg.Logger.Warn("audit: cannot pad the trail file; appending instead", "err", err)
	w.f.Truncate(w.size)
	w.alloc = w.size
}

// zeroFill writes zeros over [from, to) of f and flushes them.
func zeroFill(f *os.File, from, to int64) error {
	for off := from; off < to; off += int64(len(zeros)) {
		if _, err := f.WriteAt(zeros[:min(int64(len(zeros)), to-off)], off); err != nil {
			return err
		}
	}
	return fdatasync(f)
}

// trim cuts the padding off the current file, leaving whole records only.
func (w *Writer) trim() error {
	w.settle()
	if w.alloc > w.size {
		if err := w.f.Truncate(w.size); err != nil {
			return err
		}
		w.alloc = w.size
	}
	return fdatasync(w.f)
}
