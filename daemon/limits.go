package daemon

import (
	"log/slog"
	"time"

	"golang.org/x/sys/unix"
)

// The connection limits' defaults (pipeline.Admission applies them):
// connections are bounded in total (MaxConns, which the open-file limit
// bounds) and per uid (MaxConnsPerUID). A connection that sends no Hello
// within HelloTimeout is closed.

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
