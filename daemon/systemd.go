package daemon

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"slices"
	"time"

	"github.com/coreos/go-systemd/v22/activation"
	sd "github.com/coreos/go-systemd/v22/daemon"
)

// activated returns the socket systemd passed (socket activation), or nil
// when kmsd was started without one. The socket unit must name it
// FileDescriptorName=api; anything else passed is an error, so a unit
// that hands kmsd the wrong socket fails at start, not at first use.
func activated() (*net.UnixListener, error) {
	if os.Getenv("LISTEN_FDS") == "" {
		return nil, nil
	}
	named, err := activation.ListenersWithNames()
	if err != nil {
		return nil, fmt.Errorf("socket activation: %w", err)
	}
	var names []string
	for name := range named {
		names = append(names, name)
	}
	slices.Sort(names)
	api := named["api"]
	if len(api) != 1 || len(named) != 1 || api[0] == nil {
		return nil, fmt.Errorf("socket activation: want exactly one listening socket named \"api\" (FileDescriptorName=api), got %v", names)
	}
	ul, ok := api[0].(*net.UnixListener)
	if !ok {
		return nil, errors.New("socket activation: the \"api\" socket is not a Unix stream socket")
	}
	return ul, nil
}

// notify tells systemd about kmsd's state (READY=1, STOPPING=1, STATUS=…)
// when it runs under Type=notify; elsewhere it does nothing.
func notify(log *slog.Logger, state string) {
	if _, err := sd.SdNotify(false, state); err != nil {
		log.Warn("could not notify systemd", "state", state, "err", err)
	}
}

// watchdogInterval is how often the serving loop ticks the watchdog: a
// third of the unit's WatchdogSec= (so a probe may take two ticks before
// a ping is missed), or 0 when there is no watchdog.
func watchdogInterval(log *slog.Logger) time.Duration {
	d, err := sd.SdWatchdogEnabled(false)
	if err != nil {
		log.Warn("ignoring a malformed watchdog setting", "err", err)
		return 0
	}
	if d > 0 {
		log.Info("watchdog on", "timeout", d)
	}
	return d / 3
}
