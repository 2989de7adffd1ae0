package daemon

import (
	"errors"
	"log/slog"
	"net"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Connections are bounded so that no caller can take the descriptors
// every other caller needs: in total (MaxConns, which the open-file limit
// bounds), and per uid (MaxConnsPerUID). Root's connections count in the
// total but not per uid, and a reserve of the total is root's alone, so
// that an administrator can still connect while other users hold the
// rest. A connection that sends no Hello within HelloTimeout is closed.

// RaiseFileLimit raises the soft limit on open files to the hard limit
// and returns the limit in force.
func RaiseFileLimit(log *slog.Logger) int {
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err == nil && rl.Cur < rl.Max {
		want := rl
		want.Cur = rl.Max
		if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &want); err != nil {
			log.Warn("could not raise the open-file limit", "soft", rl.Cur, "hard", rl.Max, "err", err)
		}
	}
	return fileLimit()
}

// fileLimit is the soft limit on open files (1024 if it cannot be read).
func fileLimit() int {
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err != nil {
		return 1024
	}
	return int(min(rl.Cur, 1<<30))
}

// fdReserve is what the total of connections leaves of the open-file
// limit for everything else kmsd opens (the store's files, the trail,
// FUSE, systemd's sockets).
const fdReserve = 256

// connLimits fills in the defaults of the connection limits.
func connLimits(cfg *Config, fileLimit int) {
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = min(65536, max(64, fileLimit-fdReserve))
	}
	if cfg.MaxConnsPerUID <= 0 {
		cfg.MaxConnsPerUID = max(16, cfg.MaxConns/8)
	}
	if cfg.HelloTimeout <= 0 {
		cfg.HelloTimeout = 5 * time.Second
	}
}

// rootReserve is the part of MaxConns only root may use.
func (s *Server) rootReserve() int { return min(32, s.cfg.MaxConns/8) }

// admit counts a new connection of uid, or reports why it is refused.
// The caller holds s.mu.
func (s *Server) admit(uid uint32) (ok bool, why string) {
	total := s.cfg.MaxConns
	if uid != 0 {
		total -= s.rootReserve()
		if s.perUID[uid] >= s.cfg.MaxConnsPerUID {
			return false, "the uid's connections are at their limit"
		}
	}
	if len(s.conns)+s.awsConns >= total {
		return false, "kmsd's connections are at their limit"
	}
	s.perUID[uid]++
	return true, ""
}

// release uncounts a connection of uid. The caller holds s.mu.
func (s *Server) release(uid uint32) {
	if s.perUID[uid]--; s.perUID[uid] <= 0 {
		delete(s.perUID, uid)
	}
}

// refused logs a refused connection: at most once per refusalLogEvery per
// uid, with the number refused since.
func (s *Server) refused(uid uint32, why string) {
	s.mu.Lock()
	n := s.refusals[uid] + 1
	last, logged := s.refusedAt[uid]
	now := time.Now()
	if logged && now.Sub(last) < refusalLogEvery {
		s.refusals[uid] = n
		s.mu.Unlock()
		return
	}
	if len(s.refusedAt) >= 4096 {
		clear(s.refusedAt) // bounded: a flood of uids logs again, no more
		clear(s.refusals)
	}
	s.refusedAt[uid], s.refusals[uid] = now, 0
	s.mu.Unlock()
	s.log.Warn("refusing connections", "uid", uid, "reason", why, "refused", n,
		"limit_per_uid", s.cfg.MaxConnsPerUID, "limit_total", s.cfg.MaxConns)
}

const refusalLogEvery = 10 * time.Second

// acceptBackoff is the wait after an accept that failed for want of a
// resource (descriptors, memory): it doubles from 5 ms to 1 s and is
// reset by the next accept that works. The connection waits in the
// listen queue meanwhile; kmsd never exits for it.
type acceptBackoff struct {
	d      time.Duration
	logged time.Time
}

// resourceShortage reports whether err is an accept that may work later.
func resourceShortage(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) ||
		errors.Is(err, syscall.ENOBUFS) || errors.Is(err, syscall.ENOMEM)
}

// wait sleeps before the next accept and logs, at most every 10 s.
func (b *acceptBackoff) wait(log *slog.Logger, err error) {
	b.d = min(time.Second, max(5*time.Millisecond, 2*b.d))
	if time.Since(b.logged) >= refusalLogEvery {
		b.logged = time.Now()
		log.Error("cannot accept connections; retrying", "err", err, "retry_in", b.d.String())
	}
	time.Sleep(b.d)
}

// accepted resets the backoff.
func (b *acceptBackoff) accepted() { b.d = 0 }

// temporary reports whether an accept error is a timeout to retry at once.
func temporary(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
