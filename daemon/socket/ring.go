package socket

import (
	"fmt"
	"math/bits"
	"time"

	"golang.org/x/sys/unix"

	"kmsd/wire/api"
	"kmsd/wire/ring"
)

// Shared-memory rings (package kmsd/wire/ring): a client that says Ring
// in its Hello gets, if the server offers them (Config.RingSize) and its
// uid has rings left, an area made for the connection, with rings of the
// size it named (RingSize, at most Config.MaxRingSize) or the server's
// default, handed over with the Hello answer (SCM_RIGHTS). Every later
// frame, either way, goes through the rings; the socket then only
// carries wake-ups (a byte to a side asleep on it, ring.SocketBell), and
// its end is the connection's. Admission, budgets, the trail and the
// answers are the socket's own: only the bytes' path differs.

// answerHello answers Hello, with the connection's rings when the client
// asked for them and may have them.
func (c *conn) answerHello(id uint64, in *api.HelloInput) {
	out := c.s.cfg.Hello()
	if in == nil || !in.Ring || c.s.cfg.RingSize == 0 {
		c.answerNow(api.OpHello, id, in, out, nil)
		return
	}
	size := c.s.ringSizeFor(in.RingSize)
	fd, rc, size, err := c.s.takeRing(c.caller.P.UID, size)
	if err != nil {
		c.s.log.Warn("answering Hello without rings", "pid", c.caller.P.PID, "reason", err.Error())
	}
	if rc == nil {
		c.answerNow(api.OpHello, id, in, out, nil)
		return
	}
	defer unix.Close(fd)
	o := *out
	o.Ring = int32(size)
	if aerr := c.record(api.OpHello, id, in, &o, nil); aerr != nil {
		c.s.giveRing(c.caller.P.UID, rc, size)
		c.respond(id, c.cost, nil, aerr)
		return
	}
	frame := c.encode(id, &o, nil)
	defer clear(frame)
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.nc.SetWriteDeadline(time.Now().Add(c.s.cfg.WriteTimeout))
	n, _, err := c.nc.WriteMsgUnix(frame, unix.UnixRights(fd), nil)
	if err == nil && n < len(frame) {
		_, err = c.nc.Write(frame[n:])
	}
	c.nc.SetWriteDeadline(time.Time{}) // the socket carries only wake-ups now
	if err != nil {
		c.wfailed = err
		c.s.giveRing(c.caller.P.UID, rc, size)
	} else {
		bell, _ := ring.NewSocketBell(c.nc) // never fails for a socket
		rc.SetBell(bell)
		c.ring, c.ringSize = rc, size
	}
	c.flushed(c.cost, 1)
}

// ringSizeFor is the size of the rings for a client that names want:
// the default for none, else want rounded down to a power of two, within
// ring.MinSize and the largest the server gives.
func (s *Server) ringSizeFor(want int32) int {
	if want <= 0 {
		return s.cfg.RingSize
	}
	size := 1 << (bits.Len32(uint32(want)) - 1)
	return min(max(size, ring.MinSize), max(s.cfg.RingSize, s.cfg.MaxRingSize))
}

// takeRing makes the rings of a connection of uid, of size bytes, or of
// the default size if the memory for rings (of the server, or of uid)
// is short for size but not for that, or none; it returns the area's
// memfd (for the client), kmsd's mapping of it and the size, and an
// error if making them failed.
func (s *Server) takeRing(uid uint32, size int) (int, *ring.Conn, int, error) {
	s.mu.Lock()
	if !s.ringFits(uid, size) && size > s.cfg.RingSize {
		size = s.cfg.RingSize
	}
	if !s.ringFits(uid, size) {
		s.mu.Unlock()
		return -1, nil, 0, nil
	}
	s.rings++
	s.ringMem += size
	s.ringsBy[uid] += size
	s.mu.Unlock()
	fd, err := ring.Create(size)
	var rc *ring.Conn
	if err == nil {
		if rc, err = ring.Map(fd, size, ring.Server); err != nil {
			unix.Close(fd)
		}
	}
	if err != nil {
		s.giveRing(uid, nil, size)
		return -1, nil, 0, fmt.Errorf("making the rings: %w", err)
	}
	return fd, rc, size, nil
}

// ringFits reports whether uid may have rings of size bytes more: a ring
// is left, and the memory for them (MaxRings times RingSize; of it, a
// quarter's rings for one uid, so that one user cannot take every ring).
// The caller holds mu.
func (s *Server) ringFits(uid uint32, size int) bool {
	perUID := max(1, s.cfg.MaxRings/4) * s.cfg.RingSize
	return s.rings < s.cfg.MaxRings && s.ringMem+size <= s.cfg.MaxRings*s.cfg.RingSize &&
		s.ringsBy[uid]+size <= perUID
}

// giveRing unmaps rc (if any) and gives its place and memory back.
func (s *Server) giveRing(uid uint32, rc *ring.Conn, size int) {
	if rc != nil {
		rc.Unmap()
	}
	s.mu.Lock()
	s.rings--
	s.ringMem -= size
	if s.ringsBy[uid] -= size; s.ringsBy[uid] <= 0 {
		delete(s.ringsBy, uid)
	}
	s.mu.Unlock()
}

// Rings is the number of connections on rings.
func (s *Server) Rings() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rings
}
