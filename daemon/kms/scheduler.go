package kms

import (
	"fmt"
	"time"

	"kmsd/keystore"
	"kmsd/wire/api"
)

// loop runs Tick every TickInterval until Close.
func (s *Service) loop() {
	defer close(s.done)
	every := s.cfg.TickInterval
	if every == 0 {
		every = time.Minute
	}
	if every < 0 {
		<-s.stop
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			if err := s.Tick(); err != nil {
				s.log.Error("scheduled work failed; it will be retried", "err", err)
			}
		}
	}
}

// Tick does the work that is due at the service clock's now: it deletes
// keys whose waiting period is over (with their aliases and material) and
// rotates Enabled keys whose automatic rotation date has come. Work that
// fails is retried on the next Tick. It returns the first error.
func (s *Service) Tick() error {
	if err := s.checkOpen(); err != nil {
		return err
	}
	if f := s.fleet; f != nil && f.cfg.Leading != nil && !f.cfg.Leading() {
		return nil // another host of the fleet runs the scheduled work
	}
	now := s.now().UTC()
	if s.cfg.TickNow != nil {
		now = s.cfg.TickNow().UTC()
	}
	var dueDelete, dueRotate []*entry
	s.mu.RLock()
	for _, e := range s.keys {
		e.mu.RLock()
		r := e.rec
		switch {
		case r.KeyState == api.KeyStatePendingDeletion && r.DeletionDate != nil && !now.Before(*r.DeletionDate):
			dueDelete = append(dueDelete, e)
		case r.KeyState == api.KeyStateEnabled && r.Rotation.Enabled && r.Rotation.NextRotationDate != nil && !now.Before(*r.Rotation.NextRotationDate):
			dueRotate = append(dueRotate, e)
		}
		e.mu.RUnlock()
	}
	s.mu.RUnlock()

	var first error
	note := func(err error) {
		if err != nil && first == nil {
			first = err
		}
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	note(s.expireImports(now))
	for _, e := range dueDelete {
		e.mu.RLock()
		still := !e.deleted && e.rec.KeyState == api.KeyStatePendingDeletion && !now.Before(*e.rec.DeletionDate)
		e.mu.RUnlock()
		if still {
			note(s.deleteKey(e))
		}
	}
	for _, e := range dueRotate {
		note(s.autoRotate(e, now))
	}
	return first
}

// autoRotate adds an AUTOMATIC version to e if it is still due, and sets
// the next date one period from now. The caller holds writeMu.
func (s *Service) autoRotate(e *entry, now time.Time) error {
	e.mu.RLock()
	r := e.rec
	due := !e.deleted && r.KeyState == api.KeyStateEnabled && r.Rotation.Enabled &&
		r.Rotation.NextRotationDate != nil && !now.Before(*r.Rotation.NextRotationDate)
	r = r.Clone()
	e.mu.RUnlock()
	if !due {
		return nil
	}
	if err := s.addVersion(e, r, keystore.RotationAutomatic); err != nil {
		return err
	}
	next := now.Add(time.Duration(r.Rotation.PeriodInDays) * day)
	r.Rotation.NextRotationDate = &next
	var b keystore.Batch
	b.PutKey(r)
	if err := s.write(api.OpRotateKeyOnDemand, &b); err != nil {
		return err
	}
	e.mu.Lock()
	e.install(r)
	e.mu.Unlock()
	s.event("RotateKey", e.id.String(), fmt.Sprintf("automatic rotation to version %d", len(r.Versions)))
	return nil
}
