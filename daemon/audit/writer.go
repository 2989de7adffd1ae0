package audit

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// SyncMode says when the trail is flushed to the disk. In every mode a
// record is written to the trail's file (the kernel has it) before the
// answer it records leaves, so a crash of kmsd loses no record; the modes
// differ in what a crash of the kernel, or a power loss, can lose.
type SyncMode int

const (
	// SyncInterval (the default) flushes (fdatasync) at most
	// Config.FlushInterval after a record is written, off the answer's
	// path: a power loss can lose the records of that last interval.
	SyncInterval SyncMode = iota
	// SyncBatch flushes once per group of records, before their answers
	// leave: nothing answered is ever lost.
	SyncBatch
	// SyncAlways writes and flushes every record on its own.
	SyncAlways
	// SyncNone only writes; the kernel flushes when it will (for
	// measurements).
	SyncNone
)

// ParseSyncMode reads interval, batch, always or none.
func ParseSyncMode(s string) (SyncMode, error) {
	switch s {
	case "interval", "":
		return SyncInterval, nil
	case "batch":
		return SyncBatch, nil
	case "always":
		return SyncAlways, nil
	case "none":
		return SyncNone, nil
	}
	return 0, fmt.Errorf("audit sync %q: want interval, batch, always or none", s)
}

// String is the mode's name, as ParseSyncMode reads it.
func (m SyncMode) String() string {
	return [...]string{"interval", "batch", "always", "none"}[m]
}

// CheckpointStore keeps the latest checkpoint somewhere the audit files
// are not (kmsd's store), so that a trail cut short is noticed.
type CheckpointStore interface {
	LoadCheckpoint() (seq uint64, hash [32]byte, ok bool, err error)
	// SaveCheckpoint keeps the checkpoint's record (its seq and the hash
	// of its line) and the Merkle tree of the records up to it
	// (Tree.MarshalText).
	SaveCheckpoint(seq uint64, hash [32]byte, tree []byte) error
	// CheckpointTree is the tree SaveCheckpoint kept (nil: none).
	CheckpointTree() ([]byte, error)
	// NoteGap keeps, for good, a description of records the trail lost
	// (it was cut short, or its files were removed, while kmsd was
	// stopped): verification reports it however the files are edited
	// later.
	NoteGap(what string) error
	// SaveRetired keeps the seq and hash of the last record of the
	// trail's files retired by the retention settings: the trail begins
	// after it.
	SaveRetired(seq uint64, hash [32]byte) error
}

// Config configures Open.
type Config struct {
	Dir             string
	Host            string // a fleet host's name, written into every record
	Sync            SyncMode
	MaxFileSize     int64         // rotate past this; default 64 MiB
	RetainBytes     int64         // if set, remove the oldest files past this total (retain.go)
	RetainAge       time.Duration // if set, remove files whose last record is older
	CheckpointEvery time.Duration // default 1s
	CheckpointCount int           // also after this many records; default 10,000
	RetryEvery      time.Duration // how often a failed trail is tried again; default 100ms
	FlushInterval   time.Duration // SyncInterval: the longest a record waits for its flush; default 5ms
	MACKey          []byte        // 32 bytes, secret
	// Signer signs each checkpoint's Merkle tree (note.go); nil: the
	// checkpoints carry only the MAC. The writer owns it: Close clears
	// its key.
	Signer *Signer
	// Export, if set, is given each signed checkpoint once the trail
	// holds it on the disk (export.go): a copy kept where the trail is
	// not. It runs on a goroutine of its own, and is given the newest
	// checkpoint when it falls behind.
	Export func(signed []byte) error
	Store  CheckpointStore
	// CountsUsage says which call records the usage counts (Usage) take
	// in, by event name; nil: every one.
	CountsUsage func(event string) bool
	// KeyUse says which call records, by event name, are a cryptographic
	// use of their key: the key's last use (Usage.Last) is the last of
	// them that succeeded. nil: none.
	KeyUse func(event string) bool
	Logger *slog.Logger
	Now    func() time.Time
}

// ErrUnavailable wraps every failure to write the trail.
var ErrUnavailable = errors.New("the audit trail cannot be written")

// Writer appends to the trail. It is safe for concurrent use.
type Writer struct {
	cfg        Config
	lock       *os.File // holds the directory's lock (lockDir) while open
	reqs       chan *appendReq
	stop       chan struct{}
	done       chan struct{}
	downSince  atomic.Int64 // unix nanoseconds of the last failure; 0 while healthy
	refused    atomic.Int64 // requests refused since the trail went down
	usage      *Usage
	saveq      chan checkpoint
	exportq    chan []byte // signed checkpoints to export (export.go)
	exportDone chan struct{}
	flush      flusher
	flushes    flushStats
	writes     flushStats   // the writes of groups, timed as the flushes
	bytes      atomic.Int64 // bytes written to the trail
	saved      sync.WaitGroup
	lastSaved  atomic.Pointer[checkpoint]
	closeOnce  sync.Once

	// mu is held by whoever writes to the trail: the loop, or a caller of
	// AppendNow that found it free. It guards everything below.
	mu         sync.Mutex
	closed     bool        // the loop has ended; nothing more is written
	unsaved    *checkpoint // SyncInterval: a checkpoint written, to be saved once flushed
	closeErr   error       // what failed in ending the trail
	f          *os.File
	fileNo     int
	size       int64         // bytes of whole records in the current file
	reserved   int64         // bytes of disk reserved for the file (past size: see prealloc)
	noPrealloc bool          // reserving failed once: just append
	ahead      chan reserved // the next reservation, being made; nil if none
	seq        uint64
	prev       [32]byte
	tree       Tree       // the Merkle tree of the records 1 to seq
	signed     []byte     // the signed checkpoint of the last checkpoint record written
	saveEdges  [][32]byte // snapshot's copy of tree's edges, kept for reuse
	sinceCkpt  int
	lastCkpt   time.Time
	buf        []byte
	dirtyTail  bool // a failed write may have left part of a line
}

type checkpoint struct {
	seq    uint64
	hash   [32]byte
	tree   []byte // the tree of the records 1 to seq (Tree.MarshalText)
	signed []byte // the signed checkpoint it carries, if any
}

type appendReq struct {
	evs    []*Event
	bodies [][]byte
	done   func(error) // called by the loop once the group is written or failed
	probe  bool        // a Probe: nothing to write
}

// lockDir takes the trail directory's lock (an flock on DIR/kmsd.lock),
// or fails at once if another kmsd holds it: two writers in one trail
// would interleave their records and break its chain.
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, "kmsd.lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("audit: another kmsd writes the audit trail in %s; give each kmsd an --audit-dir of its own", dir)
		}
		return nil, fmt.Errorf("audit: locking %s: %w", dir, err)
	}
	return f, nil
}

// Open starts a writer on the trail in cfg.Dir, continuing its chain.
func Open(cfg Config) (*Writer, error) {
	if len(cfg.MACKey) < 32 {
		return nil, errors.New("audit: a 32-byte checkpoint key is required")
	}
	if cfg.MaxFileSize == 0 {
		cfg.MaxFileSize = 64 << 20
	}
	if cfg.CheckpointEvery == 0 {
		cfg.CheckpointEvery = time.Second
	}
	if cfg.CheckpointCount == 0 {
		cfg.CheckpointCount = 10_000
	}
	if cfg.RetryEvery == 0 {
		cfg.RetryEvery = 100 * time.Millisecond
	}
	if cfg.FlushInterval <= 0 {
		cfg.FlushInterval = 5 * time.Millisecond
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("audit dir: %w", err)
	}
	lock, err := lockDir(cfg.Dir)
	if err != nil {
		return nil, err
	}
	w := &Writer{cfg: cfg, reqs: make(chan *appendReq, 1024), stop: make(chan struct{}), done: make(chan struct{}),
		usage: newUsage(cfg.Now, cfg.CountsUsage, cfg.KeyUse), saveq: make(chan checkpoint, 1), lock: lock,
		flush: flusher{dirty: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}}
	if err := w.resume(); err != nil {
		lock.Close()
		return nil, err
	}
	w.flush.file = w.f
	if cfg.Sync == SyncInterval {
		go w.flushLoop()
	} else {
		close(w.flush.done)
	}
	w.lastCkpt = cfg.Now()
	w.saved.Add(1)
	go w.saveLoop()
	w.exportq, w.exportDone = make(chan []byte, 1), make(chan struct{})
	go w.exportLoop()
	go w.loop()
	return w, nil
}

// Append writes the records of a group and returns when they are written
// (and synced, per the mode), having set each event's Seq. On failure
// nothing of the group is kept and the error wraps ErrUnavailable; while
// the trail is down, Append refuses at once except for one try every
// RetryEvery.
func (w *Writer) Append(evs ...*Event) error {
	ch := make(chan error, 1)
	w.AppendAsync(evs, func(err error) { ch <- err })
	return <-ch
}

// AppendAsync is Append without the wait: done is called, on the writer's
// goroutine, once the group is written (nil) or has failed. done must be
// quick: it runs before the next group is written. Encoding happens in the
// caller's goroutine, so callers do that work in parallel.
func (w *Writer) AppendAsync(evs []*Event, done func(error)) {
	if r := w.prepare(evs, done); r != nil {
		w.queue(r)
	}
}

// AppendNow is AppendAsync for a caller that may wait for the write: when
// nothing is being written and nothing waits, it writes the group itself
// (with whatever else is queued by then) and calls done before it
// returns, sparing the handoff to the writer's goroutine, which costs a
// lone synchronous request more than the write. Otherwise it queues the
// group as AppendAsync does.
func (w *Writer) AppendNow(evs []*Event, done func(error)) {
	r := w.prepare(evs, done)
	if r == nil {
		return
	}
	if len(w.reqs) != 0 || !w.mu.TryLock() {
		w.queue(r)
		return
	}
	defer w.mu.Unlock()
	if w.closed {
		r.done(fmt.Errorf("%w: kmsd is stopping", ErrUnavailable))
		return
	}
	w.answer(w.takeQueued([]*appendReq{r}))
}

// Probe calls done on the writer's goroutine once it has taken every
// group queued before the probe (a watchdog's proof that the trail is not
// stuck: a write hung on a failing disk holds the goroutine, and every
// request waits behind it). A probe writes nothing. It reports false,
// without calling done, when the queue is full: WriteStats then tells
// whether the writer is moving.
func (w *Writer) Probe(done func()) bool {
	select {
	case w.reqs <- &appendReq{probe: true, done: func(error) { done() }}:
		return true
	case <-w.done:
		done()
		return true
	default:
		return false
	}
}

// Deferred reports whether an append returns before its flush (modes
// interval and none): writing a group is then a write to the page cache,
// which a worker may as well make itself (AppendNow).
func (w *Writer) Deferred() bool {
	return w.cfg.Sync == SyncInterval || w.cfg.Sync == SyncNone
}

// maxGroup is the most requests written as one group.
const maxGroup = 1024

// takeQueued appends to group the requests queued now, without waiting,
// up to maxGroup in all.
func (w *Writer) takeQueued(group []*appendReq) []*appendReq {
	for len(group) < maxGroup {
		select {
		case r := <-w.reqs:
			group = append(group, r)
		default:
			return group
		}
	}
	return group
}

func (w *Writer) queue(r *appendReq) {
	select {
	case w.reqs <- r:
	case <-w.done:
		r.done(fmt.Errorf("%w: kmsd is stopping", ErrUnavailable))
	}
}

// answer writes a group and tells each of its requests how that went. The
// caller holds mu.
func (w *Writer) answer(group []*appendReq) {
	if probesOnly(group) {
		for _, r := range group {
			r.done(nil)
		}
		return
	}
	err := w.writeGroup(group)
	for _, r := range group {
		r.done(err)
	}
}

// probesOnly reports whether group holds nothing to write (only Probes).
func probesOnly(group []*appendReq) bool {
	for _, r := range group {
		if !r.probe {
			return false
		}
	}
	return true
}

// prepare encodes a group's records in the caller's goroutine, or refuses
// the group (calling done, and returning nil) while the trail is down.
func (w *Writer) prepare(evs []*Event, done func(error)) *appendReq {
	if since := w.downSince.Load(); since != 0 && time.Since(time.Unix(0, since)) < w.cfg.RetryEvery {
		w.refused.Add(int64(len(evs)))
		done(errDown)
		return nil
	}
	r := &appendReq{evs: evs, bodies: make([][]byte, len(evs))}
	buf := make([]byte, 0, 320*len(evs)) // one buffer for the group's bodies
	for i, e := range evs {
		start := len(buf)
		if w.cfg.Host != "" {
			e.Host = w.cfg.Host
		}
		buf = e.appendBody(buf)
		r.bodies[i] = buf[start:len(buf):len(buf)]
	}
	r.done = func(err error) {
		if err == nil {
			w.usage.noteAll(evs)
		}
		done(err)
	}
	return r
}

var errDown = fmt.Errorf("%w (the disk is full or failing); kmsd answers no request it cannot record", ErrUnavailable)

// Ready reports whether records can be written now: nil while the trail
// is healthy. While it is down it fails at once, except once per
// RetryEvery, when it tries to write (the record that says the trail is
// back) and reports how that went. Front ends call it before doing work
// they could not record.
func (w *Writer) Ready() error {
	since := w.downSince.Load()
	if since == 0 {
		return nil
	}
	if time.Since(time.Unix(0, since)) < w.cfg.RetryEvery {
		w.refused.Add(1)
		return errDown
	}
	return w.Append()
}

// Healthy reports whether the trail was writable at its last attempt.
func (w *Writer) Healthy() bool { return w.downSince.Load() == 0 }

// Usage returns the usage derived from the records written.
func (w *Writer) Usage() *Usage { return w.usage }

// LastCheckpoint returns the newest checkpoint saved outside the files.
func (w *Writer) LastCheckpoint() (uint64, [32]byte) {
	if c := w.lastSaved.Load(); c != nil {
		return c.seq, c.hash
	}
	return 0, [32]byte{}
}

// VerifierKey is the public key of the trail's signed checkpoints, in the
// note verifier-key format ("" without a Signer).
func (w *Writer) VerifierKey() string {
	if w.cfg.Signer == nil {
		return ""
	}
	return w.cfg.Signer.VerifierKey()
}

// CheckMAC reports whether mac is this trail's MAC of a checkpoint.
func (w *Writer) CheckMAC(seq uint64, prev [32]byte, mac []byte) bool {
	return hmac.Equal(CheckpointMAC(w.cfg.MACKey, seq, prev), mac)
}

// Close writes a final checkpoint, syncs and closes the trail, clears
// the Signer's key, and reports what failed of that. Later calls do nothing and return nil.
func (w *Writer) Close() error {
	first := false
	w.closeOnce.Do(func() { close(w.stop); first = true })
	<-w.done
	w.saved.Wait()
	<-w.exportDone
	if !first {
		return nil
	}
	if w.cfg.Signer != nil {
		w.cfg.Signer.Zero()
	}
	return w.closeErr
}

// finish ends the trail's last file: a checkpoint over what it holds, the
// padding cut off, the file synced and closed. The caller holds mu.
func (w *Writer) finish() error {
	var err error
	if w.Healthy() && w.sinceCkpt > 0 {
		err = w.writeGroup(nil)
	}
	err = errors.Join(err, w.trim(), w.f.Close())
	w.lock.Close()
	if w.unsaved != nil && err == nil {
		w.save(*w.unsaved) // flushed by trim
	}
	if err != nil {
		w.cfg.Logger.Error("audit: closing the trail", "err", err)
	}
	return err
}

// Checkpoint writes a checkpoint now over the records written since the
// last one (if any), so that a verification covers every record so far.
func (w *Writer) Checkpoint() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return fmt.Errorf("%w: kmsd is stopping", ErrUnavailable)
	}
	if w.sinceCkpt == 0 {
		return nil
	}
	return w.writeGroup(nil)
}

// CheckpointMAC is HMAC-SHA256(key, "kmsd/v1/audit-checkpoint" | seq | prev),
// seq as 8 bytes big-endian and prev the 32-byte hash the record chains to.
func CheckpointMAC(key []byte, seq uint64, prev [32]byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("kmsd/v1/audit-checkpoint"))
	binary.Write(m, binary.BigEndian, seq)
	m.Write(prev[:])
	return m.Sum(nil)
}

// FileName is the name of the n-th file of a trail.
func FileName(n int) string { return fmt.Sprintf("audit-%06d.jsonl", n) }

func (w *Writer) path(n int) string { return filepath.Join(w.cfg.Dir, FileName(n)) }

// loop owns the file: it takes every group queued, writes them together,
// and answers each.
func (w *Writer) loop() {
	defer close(w.done)
	tick := time.NewTicker(w.cfg.CheckpointEvery)
	defer tick.Stop()
	var group []*appendReq
	for {
		select {
		case r := <-w.reqs:
			group = append(group[:0], r)
			runtime.Gosched() // let workers finishing now join this group
			w.mu.Lock()
			group = w.takeQueued(group)
			w.answer(group)
			w.mu.Unlock()
			clear(group)
		case <-tick.C:
			w.mu.Lock()
			w.checkFile()
			if w.Healthy() && w.sinceCkpt > 0 {
				w.writeGroup(nil) // a checkpoint on its own
			}
			w.mu.Unlock()
		case <-w.stop:
			close(w.flush.stop)
			<-w.flush.done
			w.mu.Lock()
			for {
				select {
				case r := <-w.reqs:
					w.answer([]*appendReq{r})
					continue
				default:
				}
				break
			}
			w.closeErr = w.finish()
			w.closed = true
			close(w.saveq)
			close(w.exportq)
			w.mu.Unlock()
			return
		}
	}
}

// saveLoop persists the newest checkpoint outside the files.
func (w *Writer) saveLoop() {
	defer w.saved.Done()
	for c := range w.saveq {
		if w.cfg.Store != nil {
			if err := w.cfg.Store.SaveCheckpoint(c.seq, c.hash, c.tree); err != nil {
				w.cfg.Logger.Error("saving the audit checkpoint", "err", err)
				continue
			}
		}
		w.lastSaved.Store(&c)
	}
}

func fdatasync(f *os.File) error { return unix.Fdatasync(int(f.Fd())) }

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
