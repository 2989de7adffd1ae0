package pipeline

// Probes, for the watchdog (package daemon): a probe is a request that is
// answered by being taken, sent through each place a request waits in.

// Stage is one probe on its way: done reports whether it has shown that
// the place it went through is not stuck.
type Stage struct {
	Name     string
	back     chan struct{} // closed when the probe is taken
	progress func() uint64 // what moves while the stage works (a full queue)
	mark     uint64        // progress() when the probe could not be queued
}

// Done reports whether the stage has shown it is not stuck: its probe
// was taken, or, if it could not be queued (a full queue), the stage has
// moved since (its workers finished a pass, its writer a write).
func (st *Stage) Done() bool {
	if st.back == nil {
		return st.progress() != st.mark
	}
	select {
	case <-st.back:
		return true
	default:
		return false
	}
}

// Probe sends a probe through each place a request waits in: the crypto
// workers' queue, the management workers' queue, and the audit trail's
// writer (where a write hung on a failing disk holds every request
// behind it).
func (p *Pipeline) Probe() []*Stage {
	stages := []*Stage{p.crypto.probe("the crypto workers"), p.admin.probe("the management workers")}
	if a := p.cfg.Audit; a != nil {
		st := &Stage{Name: "the audit trail's writer", back: make(chan struct{}), progress: func() uint64 {
			n, _, _, _ := a.WriteStats()
			return uint64(n)
		}}
		if !a.Probe(func() { close(st.back) }) {
			st.back, st.mark = nil, st.progress()
		}
		stages = append(stages, st)
	}
	return stages
}

// probe queues a probe for q's workers.
func (q *pool) probe(name string) *Stage {
	st := &Stage{Name: name, back: make(chan struct{}), progress: q.passes.Load}
	if !q.submit(&Request{Reply: probe(st.back)}) {
		st.back, st.mark = nil, st.progress()
	}
	return st
}
