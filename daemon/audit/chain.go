package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"time"
)

// writeGroup appends the group's records (and a checkpoint when one is
// due, or when group is nil) in one write, syncs per the mode, and on
// failure undoes everything the group did to the chain.
func (w *Writer) writeGroup(group []*appendReq) error {
	now := w.cfg.Now()
	if w.dirtyTail {
		// A failed write may have left part of a record: zero it (within
		// the padding) or cut it off (past it).
		w.settle()
		err := w.f.Truncate(max(w.size, w.alloc))
		if err == nil && w.alloc > w.size {
			_, err = w.f.WriteAt(zeros[:min(int64(len(zeros)), w.alloc-w.size)], w.size)
			if w.alloc-w.size > int64(len(zeros)) {
				err = w.f.Truncate(w.size)
				w.alloc = w.size
			}
		}
		if err != nil {
			return w.fail(group, err)
		}
		w.dirtyTail = false
	}
	est := 512
	for _, r := range group {
		for _, b := range r.bodies {
			est += len(b) + 128
		}
	}
	if w.size > 0 && w.size+int64(est) > w.cfg.MaxFileSize {
		if err := w.rotate(now); err != nil {
			return w.fail(group, err)
		}
	}
	seq0, prev0, since0 := w.seq, w.prev, w.sinceCkpt
	w.buf = w.buf[:0]
	if !w.Healthy() {
		resumed := &Event{Time: now, Type: TypeService, Name: "AuditResumed",
			Detail: strconv.FormatInt(w.refused.Load(), 10) + " requests were refused while the trail could not be written"}
		w.buf = w.appendLine(w.buf, resumed.appendBody(nil))
	}
	var ends []int // where each record ends, for SyncAlways
	for _, r := range group {
		for i, body := range r.bodies {
			w.buf = w.appendLine(w.buf, body)
			r.evs[i].Seq = w.seq
			ends = append(ends, len(w.buf))
		}
	}
	ckpt := group == nil || w.sinceCkpt >= w.cfg.CheckpointCount || now.Sub(w.lastCkpt) >= w.cfg.CheckpointEvery
	if ckpt {
		w.buf = w.appendCheckpoint(w.buf, now)
	}
	err := w.write(ends)
	if err != nil {
		w.seq, w.prev, w.sinceCkpt = seq0, prev0, since0
		w.dirtyTail = true
		return w.fail(group, err)
	}
	w.size += int64(len(w.buf))
	w.alloc = max(w.alloc, w.size)
	if !w.Healthy() {
		w.cfg.Logger.Warn("audit trail writable again", "refused", w.refused.Load())
		w.downSince.Store(0)
		w.refused.Store(0)
	}
	if ckpt {
		w.lastCkpt = now
		select {
		case <-w.saveq: // an older checkpoint not saved yet: the newer one will do
		default:
		}
		w.saveq <- checkpoint{w.seq, w.prev}
	}
	if cap(w.buf) > 4<<20 {
		w.buf = nil
	}
	return nil
}

// write puts w.buf in the file: in one write, or (SyncAlways) record by
// record with an fdatasync after each.
func (w *Writer) write(ends []int) error {
	w.prealloc(int64(len(w.buf)))
	if w.cfg.Sync == SyncAlways {
		start := 0
		for _, end := range append(ends, len(w.buf)) {
			if end == start {
				continue
			}
			if _, err := w.f.WriteAt(w.buf[start:end], w.size+int64(start)); err != nil {
				return err
			}
			if err := fdatasync(w.f); err != nil {
				return err
			}
			start = end
		}
		return nil
	}
	if _, err := w.f.WriteAt(w.buf, w.size); err != nil {
		return err
	}
	if w.cfg.Sync == SyncBatch {
		return fdatasync(w.f)
	}
	return nil
}

func (w *Writer) fail(group []*appendReq, err error) error {
	if w.Healthy() {
		w.cfg.Logger.Error("audit trail cannot be written: refusing requests until it can", "err", err)
	}
	w.downSince.Store(time.Now().UnixNano())
	for _, r := range group {
		w.refused.Add(int64(len(r.evs)))
	}
	return fmt.Errorf("%w: %v", ErrUnavailable, err)
}

// appendLine closes a record body with its seq and prev, appends it and a
// newline to b, and advances the chain.
func (w *Writer) appendLine(b, body []byte) []byte {
	w.seq++
	start := len(b)
	b = append(b, body...)
	b = append(b, `,"seq":`...)
	b = strconv.AppendUint(b, w.seq, 10)
	b = append(b, `,"prev":"`...)
	b = hex.AppendEncode(b, w.prev[:])
	b = append(b, `"}`...)
	w.prev = sha256.Sum256(b[start:])
	w.sinceCkpt++
	return append(b, '\n')
}

func (w *Writer) appendCheckpoint(b []byte, now time.Time) []byte {
	mac := CheckpointMAC(w.cfg.MACKey, w.seq+1, w.prev)
	body := (&Event{Time: now, Type: TypeCheckpoint, Name: "Checkpoint"}).appendBody(nil)
	body = append(body, `,"mac":"`...)
	body = hex.AppendEncode(body, mac)
	body = append(body, '"')
	b = w.appendLine(b, body)
	w.sinceCkpt = 0
	return b
}

// rotate ends the current file with a checkpoint and starts the next one
// with an open record; the chain runs on across files.
func (w *Writer) rotate(now time.Time) error {
	seq0, prev0, since0 := w.seq, w.prev, w.sinceCkpt
	tail := w.appendCheckpoint(nil, now)
	if _, err := w.f.WriteAt(tail, w.size); err != nil {
		w.seq, w.prev, w.sinceCkpt = seq0, prev0, since0
		w.dirtyTail = true
		return err
	}
	w.size += int64(len(tail))
	if err := w.trim(); err != nil {
		return err
	}
	f, err := os.OpenFile(w.path(w.fileNo+1), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	seq1, prev1 := w.seq, w.prev
	open := w.appendLine(nil, (&Event{Time: now, Type: TypeOpen, Name: "Open", Detail: FileName(w.fileNo + 1)}).appendBody(nil))
	if _, err := f.Write(open); err != nil {
		w.seq, w.prev = seq1, prev1
		f.Close()
		os.Remove(f.Name())
		return err
	}
	w.f.Close()
	w.f, w.fileNo, w.size, w.alloc = f, w.fileNo+1, int64(len(open)), int64(len(open))
	syncDir(w.cfg.Dir)
	return nil
}
