package daemon

import (
	"kmsd/daemon/pipeline"
	"log/slog"
	"strings"
	"time"
)

// The watchdog. Under a unit with WatchdogSec=, systemd restarts kmsd if
// it does not hear WATCHDOG=1 within that time. A goroutine that pinged
// on a timer would keep pinging while every request hung, so kmsd pings
// from its serving loop (serve, in run.go), and only once a probe has
// come back from each place a request waits in: the crypto workers'
// queue, the management workers' queue, and the audit trail's writer
// (where a write hung on a failing disk holds every request behind it).
// A probe that does not come back before the next ping is due means no
// ping, and systemd's restart (after SIGABRT, whose goroutine dump lands
// in the journal).
//
// A queue too full to take a probe is not a hang if its workers are
// moving: the probe then passes when the workers have finished a pass
// (or the trail a write) since it was tried.

// watchdog is the serving loop's state between two ticks.
type watchdog struct {
	s       *Server
	log     *slog.Logger
	pending []*pipeline.Stage
	sent    time.Time // when the pending probes were sent
	stuck   bool      // a ping was withheld (logged once until it passes)
}

// tick reports whether kmsd may ping the watchdog now: the probes sent at
// the last tick are all back. It then sends the next round.
func (w *watchdog) tick(now time.Time) bool {
	var late []string
	for _, st := range w.pending {
		if !st.Done() {
			late = append(late, st.Name)
		}
	}
	if len(late) != 0 {
		if !w.stuck {
			w.log.Error("watchdog: withholding the ping: a probe has not come back", "from", strings.Join(late, ", "), "for", now.Sub(w.sent).Round(time.Millisecond))
		}
		w.stuck = true
		return false
	}
	if w.stuck {
		w.log.Warn("watchdog: the probes came back; pinging again", "after", now.Sub(w.sent).Round(time.Millisecond))
		w.stuck = false
	}
	w.pending = w.s.p.Probe()
	w.sent = now
	return true
}
