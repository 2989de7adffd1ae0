package audit

import (
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// flusher flushes the trail in SyncInterval mode: a record written marks
// the trail dirty, and a flush (fdatasync) starts at most FlushInterval
// later, off every answer's path. Flushes run one at a time, so each
// covers whatever was written before it began.
type flusher struct {
	dirty chan struct{} // a record was written since the last flush began
	stop  chan struct{}
	done  chan struct{}

	mu   sync.Mutex // held during a flush; guards file
	file *os.File   // the file to flush: the writer swaps it at rotation
}

// markDirty tells the flusher a record was written. The caller holds
// w.mu.
func (w *Writer) markDirty() {
	select {
	case w.flush.dirty <- struct{}{}:
	default:
	}
}

// setFlushFile makes f the file the flusher flushes; the caller then
// may close the one before. The caller holds w.mu.
func (w *Writer) setFlushFile(f *os.File) {
	w.flush.mu.Lock()
	w.flush.file = f
	w.flush.mu.Unlock()
}

// flushLoop is the flusher's goroutine (SyncInterval only).
func (w *Writer) flushLoop() {
	defer close(w.flush.done)
	last := time.Time{} // when the last flush began
	for {
		select {
		case <-w.flush.dirty:
		case <-w.flush.stop:
			return
		}
		if wait := time.Until(last.Add(w.cfg.FlushInterval)); wait > 0 {
			select {
			case <-time.After(wait):
			case <-w.flush.stop:
				return // Close flushes what is left
			}
		}
		last = time.Now()
		w.flushNow()
	}
}

// flushNow flushes the file and then hands the newest checkpoint written
// before the flush to the store: a checkpoint is saved outside the trail
// only once the trail holds it on the disk.
func (w *Writer) flushNow() {
	w.mu.Lock()
	ck := w.unsaved
	w.unsaved = nil
	w.mu.Unlock()
	w.flush.mu.Lock()
	err := w.timedSync(w.flush.file)
	w.flush.mu.Unlock()
	if err != nil {
		if w.Healthy() {
			w.cfg.Logger.Error("audit trail cannot be flushed: refusing requests until it can", "err", err)
		}
		w.downSince.Store(time.Now().UnixNano())
		return
	}
	if ck != nil {
		w.save(*ck)
	}
}

// save hands a checkpoint to the store's goroutine, replacing an older
// one not saved yet.
func (w *Writer) save(c checkpoint) {
	select {
	case <-w.saveq:
	default:
	}
	w.saveq <- c
	w.export(c.signed)
}

// flushStats counts the trail's flushes and how long they took.
type flushStats struct{ n, total, longest atomic.Int64 }

func (s *flushStats) note(d time.Duration) {
	s.n.Add(1)
	s.total.Add(int64(d))
	for m := s.longest.Load(); int64(d) > m && !s.longest.CompareAndSwap(m, int64(d)); m = s.longest.Load() {
	}
}

// FlushStats reports how many flushes (fdatasync) of the trail there have
// been, their total time and the longest.
func (w *Writer) FlushStats() (n int64, total, longest time.Duration) {
	return w.flushes.n.Load(), time.Duration(w.flushes.total.Load()), time.Duration(w.flushes.longest.Load())
}

// WriteStats reports the trail's writes: how many groups were written,
// their total time and the longest, and the bytes written.
func (w *Writer) WriteStats() (n int64, total, longest time.Duration, bytes int64) {
	return w.writes.n.Load(), time.Duration(w.writes.total.Load()), time.Duration(w.writes.longest.Load()), w.bytes.Load()
}

// timedSync flushes f and counts it.
func (w *Writer) timedSync(f *os.File) error {
	start := time.Now()
	err := fdatasync(f)
	w.flushes.note(time.Since(start))
	return err
}
