package pipeline

import (
	"log/slog"
	"sync"
	"time"
)

// Admission is the first stage: connections are bounded so that no
// caller can take the descriptors every other caller needs: in total
// (MaxConns, which the open-file limit bounds), and per uid
// (MaxConnsPerUID). Root's connections count in the total but not per
// uid, and a reserve of the total is root's alone, so that an
// administrator can still connect while other users hold the rest. The
// socket's connections and the AWS endpoint's count alike; the AWS
// endpoint's TCP connections start in a small shared allowance of
// connections not yet signed for (MaxUnsigned), and move to their access
// key's, bounded as a uid's, once a signature names one.
type Admission struct {
	total, perUIDMax, unsignedMax int
	log                           *slog.Logger

	mu       sync.Mutex
	n        int            // connections admitted
	perUID   map[uint32]int // by uid
	unsigned int            // TCP connections not yet signed for
	perKey   map[string]int // the others, by access key id
	aux      map[string]int // the other listeners' (metrics), by listener
	auxPeer  map[string]int // the same, by listener and peer
	// refusals counts refused connections by uid since refusedAt, when
	// one was last logged.
	refusals  map[uint32]int
	refusedAt map[uint32]time.Time
}

// NewAdmission bounds connections to total, perUID for each uid but
// root, and unsigned for TCP connections not yet signed for.
func NewAdmission(total, perUID, unsigned int, log *slog.Logger) *Admission {
	return &Admission{total: total, perUIDMax: perUID, unsignedMax: min(unsigned, perUID), log: log,
		perUID: map[uint32]int{}, perKey: map[string]int{}, aux: map[string]int{}, auxPeer: map[string]int{}, refusals: map[uint32]int{}, refusedAt: map[uint32]time.Time{}}
}

// rootReserve is the part of the total only root may use.
func (a *Admission) rootReserve() int { return min(32, a.total/8) }

// Admit counts a new connection of uid on the main socket, or reports
// why it is refused.
func (a *Admission) Admit(uid uint32) (ok bool, why string) { return a.AdmitOn(uid, true) }

// AdmitOn is Admit on the main socket (main) or another Unix listener
// (the AWS endpoint's): root's reserve of the total is the main socket's
// alone, so that root can always reach kmsd there.
func (a *Admission) AdmitOn(uid uint32, main bool) (ok bool, why string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	total := a.total
	if uid != 0 || !main {
		total -= a.rootReserve()
		if a.perUID[uid] >= a.perUIDMax {
			return false, "the uid's connections are at their limit"
		}
	}
	if a.n >= total {
		return false, "kmsd's connections are at their limit"
	}
	a.perUID[uid]++
	a.n++
	return true, ""
}

// Release uncounts a connection Admit counted.
func (a *Admission) Release(uid uint32) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.perUID[uid]--; a.perUID[uid] <= 0 {
		delete(a.perUID, uid)
	}
	a.n--
}

// AdmitUnsigned counts a new TCP connection in the allowance of those
// not yet signed for, or reports why it is refused.
func (a *Admission) AdmitUnsigned() (ok bool, why string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.n >= a.total-a.rootReserve() {
		return false, "kmsd's connections are at their limit"
	}
	if a.unsigned >= a.unsignedMax {
		return false, "the AWS endpoint's connections not yet signed for are at their limit"
	}
	a.unsigned++
	a.n++
	return true, ""
}

// Signed moves an unsigned connection to the allowance of access key
// key, or reports false (it stays unsigned) if that one is spent.
func (a *Admission) Signed(key string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.perKey[key] >= a.perUIDMax {
		return false
	}
	a.perKey[key]++
	a.unsigned--
	return true
}

// ReleaseTCP uncounts a TCP connection: of access key key, or unsigned
// if key is "".
func (a *Admission) ReleaseTCP(key string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if key == "" {
		a.unsigned--
	} else if a.perKey[key]--; a.perKey[key] <= 0 {
		delete(a.perKey, key)
	}
	a.n--
}

// AdmitAux counts a connection of a listener that is neither the main
// socket nor the AWS endpoint (the metrics), in that listener's own
// allowance of most connections, at most perPeer of them from one peer
// (a uid on Unix; every TCP peer is one), and never in root's reserve.
// Past any of them it reports why the connection is refused.
func (a *Admission) AdmitAux(listener, peer string, most, perPeer int) (ok bool, why string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	key := listener + "\x00" + peer
	switch {
	case a.n >= a.total-a.rootReserve():
		return false, "kmsd's connections are at their limit"
	case a.aux[listener] >= most:
		return false, "the " + listener + " listener's connections are at their limit"
	case a.auxPeer[key] >= perPeer:
		return false, "the peer's connections to the " + listener + " listener are at their limit"
	}
	a.aux[listener]++
	a.auxPeer[key]++
	a.n++
	return true, ""
}

// ReleaseAux uncounts a connection AdmitAux counted.
func (a *Admission) ReleaseAux(listener, peer string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	key := listener + "\x00" + peer
	if a.auxPeer[key]--; a.auxPeer[key] <= 0 {
		delete(a.auxPeer, key)
	}
	a.aux[listener]--
	a.n--
}

// Count is the connections admitted now, and by uid.
func (a *Admission) Count() (n int, perUID map[uint32]int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	perUID = make(map[uint32]int, len(a.perUID))
	for uid, k := range a.perUID {
		perUID[uid] = k
	}
	return a.n, perUID
}

// Refused logs a refused connection: at most once per refusalLogEvery
// per uid, with the number refused since.
func (a *Admission) Refused(uid uint32, why string) {
	a.mu.Lock()
	n := a.refusals[uid] + 1
	last, logged := a.refusedAt[uid]
	now := time.Now()
	if logged && now.Sub(last) < RefusalLogEvery {
		a.refusals[uid] = n
		a.mu.Unlock()
		return
	}
	if len(a.refusedAt) >= 4096 {
		clear(a.refusedAt) // bounded: a flood of uids logs again, no more
		clear(a.refusals)
	}
	a.refusedAt[uid], a.refusals[uid] = now, 0
	a.mu.Unlock()
	a.log.Warn("refusing connections", "uid", uid, "reason", why, "refused", n,
		"limit_per_uid", a.perUIDMax, "limit_total", a.total)
}

// RefusalLogEvery is how often refusals are logged, at most, per uid.
const RefusalLogEvery = 10 * time.Second
