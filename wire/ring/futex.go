package ring

import (
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// waitWord is where one side sleeps until the other has done something
// (written data, or freed space): flag says a sleeper is there (or about
// to be), seq is the futex it sleeps on.
type waitWord struct {
	flag *atomic.Uint32
	seq  *atomic.Uint32
}

func newWaitWord(mem []byte, off int) waitWord {
	return waitWord{flag: word(mem, off), seq: word(mem, off+4)}
}

// wake wakes whoever sleeps on w, if its flag says someone may: one
// atomic load when nobody does.
func (w waitWord) wake() {
	if w.flag.Load() != 0 && w.flag.Swap(0) != 0 {
		w.kick()
	}
}

// kick bumps the sequence and wakes every sleeper on it, flag or not (a
// side's own Close and deadlines use it).
func (w waitWord) kick() {
	w.seq.Add(1)
	futexWake(w.seq)
}

// sleep sleeps until w is woken, ready reports true, or d passes (d <= 0:
// no limit); it reports whether ready held when it returned. The flag is
// set before ready is looked at once more, so a wake that comes between
// the caller's last look and the sleep is never lost: with Go's
// sequentially consistent atomics, either the waker sees the flag or this
// look sees the waker's data.
func (w waitWord) sleep(ready func() bool, d time.Duration) bool {
	seq := w.seq.Load()
	w.flag.Store(1)
	if ready() {
		return true
	}
	futexWait(w.seq, seq, d)
	return ready()
}

const (
	futexWait32 = 0 // FUTEX_WAIT, shared between processes (not _PRIVATE)
	futexWake32 = 1 // FUTEX_WAKE
)

// futexWait sleeps while *addr == val, for at most d (d <= 0: no
// limit). Spurious returns are the caller's to handle.
func futexWait(addr *atomic.Uint32, val uint32, d time.Duration) {
	var ts *unix.Timespec
	if d > 0 {
		t := unix.NsecToTimespec(int64(d))
		ts = &t
	}
	unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(addr)), futexWait32, uintptr(val), uintptr(unsafe.Pointer(ts)), 0, 0)
}

// futexWake wakes every sleeper on addr.
func futexWake(addr *atomic.Uint32) {
	unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(addr)), futexWake32, uintptr(1<<31-1), 0, 0, 0)
}
