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
	if err := w.repairTail(); err != nil {
		return w.fail(group, err)
	}
	if w.size > 0 && w.size+groupSize(group) > w.cfg.MaxFileSize {
		if err := w.rotate(now); err != nil {
			return w.fail(group, err)
		}
	}
	snap := w.snapshot()
	ends, ckpt := w.encodeGroup(group, now)
	start := time.Now()
	err := w.write(ends)
	w.writes.note(time.Since(start))
	if err != nil {
		w.rewind(snap)
		w.dirtyTail = true
		return w.fail(group, err)
	}
	w.written(now, ckpt)
	return nil
}

// repairTail cuts off what a failed write may have left of a record.
func (w *Writer) repairTail() error {
	if !w.dirtyTail {
		return nil
	}
	w.waitReserve()
	err := w.f.Truncate(w.size)
	if err == nil {
		w.dirtyTail, w.reserved = false, w.size
	}
	return err
}

// groupSize estimates the bytes a group takes in the file.
func groupSize(group []*appendReq) int64 {
	est := int64(512)
	for _, r := range group {
		for _, b := range r.bodies {
			est += int64(len(b)) + 128
		}
	}
	return est
}

// encodeGroup chains the group's records into w.buf: an AuditResumed
// record first if the trail was down, a checkpoint last if one is due. It
// sets each event's Seq and returns where each record ends (for
// SyncAlways) and whether a checkpoint was added.
func (w *Writer) encodeGroup(group []*appendReq, now time.Time) (ends []int, ckpt bool) {
	w.buf = w.buf[:0]
	if !w.Healthy() {
		resumed := &Event{Time: now, Type: TypeService, Name: "AuditResumed",
			Detail: strconv.FormatInt(w.refused.Load(), 10) + " requests were refused while the trail could not be written"}
		w.buf = w.appendLine(w.buf, resumed.appendBody(nil))
	}
	for _, r := range group {
		for i, body := range r.bodies {
			w.buf = w.appendLine(w.buf, body)
			r.evs[i].Seq = w.seq
			ends = append(ends, len(w.buf))
		}
	}
	ckpt = group == nil || w.sinceCkpt >= w.cfg.CheckpointCount || now.Sub(w.lastCkpt) >= w.cfg.CheckpointEvery
	if ckpt {
		w.buf = w.appendCheckpoint(w.buf, now)
	}
	return ends, ckpt
}

// written accounts for a group on the disk: the file's size, the trail
// healthy again, and a checkpoint (if the group ended with one) handed
// to the store.
func (w *Writer) written(now time.Time, ckpt bool) {
	w.size += int64(len(w.buf))
	w.bytes.Add(int64(len(w.buf)))
	if !w.Healthy() {
		w.cfg.Logger.Warn("audit trail writable again", "refused", w.refused.Load())
		w.downSince.Store(0)
		w.refused.Store(0)
	}
	if ckpt {
		w.lastCkpt = now
		c := checkpoint{seq: w.seq, hash: w.prev, tree: w.tree.appendText(nil), signed: w.signed}
		if w.cfg.Sync == SyncInterval {
			w.unsaved = &c // saved once the flusher has flushed it
		} else {
			w.save(c)
		}
	}
	if cap(w.buf) > 4<<20 {
		w.buf = nil
	}
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
			if err := w.timedSync(w.f); err != nil {
				return err
			}
			start = end
		}
		return nil
	}
	if _, err := w.f.WriteAt(w.buf, w.size); err != nil {
		return err
	}
	switch w.cfg.Sync {
	case SyncBatch:
		return w.timedSync(w.f)
	case SyncInterval:
		w.markDirty()
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
	w.tree.Append(LeafHash(b[start:]))
	w.sinceCkpt++
	return append(b, '\n')
}

// chainState is where the chain and the tree stood before a write, to go
// back to if the write fails.
type chainState struct {
	seq, treeSize uint64
	prev          [32]byte
	sinceCkpt     int
}

// snapshot saves the chain's state (the tree's edges in w.saveEdges).
func (w *Writer) snapshot() chainState {
	w.saveEdges = append(w.saveEdges[:0], w.tree.edges...)
	return chainState{seq: w.seq, treeSize: w.tree.size, prev: w.prev, sinceCkpt: w.sinceCkpt}
}

// rewind goes back to the state snapshot saved.
func (w *Writer) rewind(s chainState) {
	w.seq, w.prev, w.sinceCkpt = s.seq, s.prev, s.sinceCkpt
	w.tree.size, w.tree.edges = s.treeSize, append(w.tree.edges[:0], w.saveEdges...)
}

// appendCheckpoint appends a checkpoint record: the MAC of its seq and
// prev, and (with a Signer) the signed checkpoint of the tree of every
// record before it, kept in w.signed until it is saved.
func (w *Writer) appendCheckpoint(b []byte, now time.Time) []byte {
	mac := CheckpointMAC(w.cfg.MACKey, w.seq+1, w.prev)
	body := (&Event{Time: now, Type: TypeCheckpoint, Name: "Checkpoint"}).appendBody(nil)
	w.signed = nil
	if w.cfg.Signer != nil {
		signed, err := w.cfg.Signer.signCheckpoint(w.tree.size, w.tree.Root())
		if err != nil { // Ed25519 signing does not fail
			panic(err)
		}
		w.signed = signed
		body = append(body, `,"checkpoint":`...)
		body = appendString(body, string(signed))
	}
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
	snap := w.snapshot()
	tail := w.appendCheckpoint(nil, now)
	if _, err := w.f.WriteAt(tail, w.size); err != nil {
		w.rewind(snap)
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
	snap = w.snapshot()
	open := w.appendOpen(nil, now, w.fileNo+1)
	if _, err := f.Write(open); err != nil {
		w.rewind(snap)
		f.Close()
		os.Remove(f.Name())
		return err
	}
	old := w.f
	w.f, w.fileNo, w.size, w.reserved = f, w.fileNo+1, int64(len(open)), int64(len(open))
	w.setFlushFile(f)
	old.Close()
	if w.cfg.Sync == SyncInterval {
		w.markDirty() // the new file's open record
	}
	syncDir(w.cfg.Dir)
	w.retire(now)
	return nil
}

// appendOpen appends the open record of file n: it names the file and
// carries the tree of the records before it, so that the trail can be
// checked against its signed checkpoints from any of its files on (when
// the older ones were retired).
func (w *Writer) appendOpen(b []byte, now time.Time, n int) []byte {
	body := (&Event{Time: now, Type: TypeOpen, Name: "Open", Detail: FileName(n)}).appendBody(nil)
	body = append(body, `,"tree":"`...)
	body = w.tree.appendText(body)
	body = append(body, '"')
	return w.appendLine(b, body)
}
