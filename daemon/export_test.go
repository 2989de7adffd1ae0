package daemon

import (
	"time"

	"kmsd/daemon/audit"
	"kmsd/daemon/pipeline"
	"kmsd/daemon/policy"
	"kmsd/keystore"
)

// What the tests of package daemon_test see of the server's insides.

// Units is pipeline.Units: the in-flight slots a frame of n bytes takes.
func Units(n int) int { return pipeline.Units(n) }

// Held returns the units held in flight now and at the peak.
func (s *Server) Held() (now, peak int64) { return s.p.Held() }

// TrimWhenIdle is trimWhenIdle.
func (s *Server) TrimWhenIdle(stop <-chan struct{}, ticks <-chan time.Time, trim func()) {
	s.trimWhenIdle(stop, ticks, trim)
}

// Principals returns the callers of the open connections.
func (s *Server) Principals() []*policy.Principal { return s.sock.Principals() }

// Serves reports whether op has a handler.
func (s *Server) Serves(op string) bool { return handlers[op] != nil }

// Audit is the server's audit trail (nil when it runs without one).
func (s *Server) Audit() *audit.Writer { return s.cfg.Audit }

// AuditDir is the server's audit directory.
func (s *Server) AuditDir() string { return s.cfg.AuditDir }

// CheckpointStore is the checkpoint store kmsd gives its audit trail.
func CheckpointStore(st keystore.Store) audit.CheckpointStore { return checkpointStore{st} }

// HeldBy is what uid holds of the in-flight budget now.
func HeldBy(s *Server, uid uint32) int { return s.p.HeldBy(uid) }

// Rings is the number of connections on shared-memory rings.
func (s *Server) Rings() int { return s.sock.Rings() }
