package daemon

import (
	"fmt"
	"time"

	"kmsd/keystore/badgerstore"
)

// lowDisk is the free space under which kmsd warns (in Status and its log)
// that it will soon refuse changes: at badgerstore.DefaultMinFree it
// refuses changes to keys, and the trail's own writes fail when nothing
// is left (then every request is refused until there is room).
const lowDisk = 4 * badgerstore.DefaultMinFree

// disk reports the free space of the state and audit directories and,
// if either is low, a warning; -1 for a directory it cannot read.
func (s *Server) disk() (state, audit int64, warning string) {
	state, audit = -1, -1
	if s.cfg.StateDir != "" {
		if f, err := badgerstore.FreeSpace(s.cfg.StateDir); err == nil {
			state = f
		}
	}
	if s.cfg.AuditDir != "" {
		if f, err := badgerstore.FreeSpace(s.cfg.AuditDir); err == nil {
			audit = f
		}
	}
	for _, d := range []struct {
		what string
		free int64
	}{{"state directory", state}, {"audit directory", audit}} {
		if d.free >= 0 && d.free < lowDisk {
			warning += fmt.Sprintf("the %s's file system has %d MiB free; below %d MiB kmsd refuses changes to keys, and with none left it refuses every request. ",
				d.what, d.free>>20, badgerstore.DefaultMinFree>>20)
		}
	}
	return state, audit, warning
}

// watchDisk logs a warning while the disk is low, at most every
// diskWarnEvery, at each tick until done is closed.
func (s *Server) watchDisk(done <-chan struct{}, tick <-chan time.Time) {
	var last time.Time
	for {
		select {
		case <-done:
			return
		case now := <-tick:
			if _, _, w := s.disk(); w != "" && now.Sub(last) >= diskWarnEvery {
				last = now
				s.log.Warn("disk space is low: " + w)
			}
		}
	}
}

const diskWarnEvery = 10 * time.Minute
