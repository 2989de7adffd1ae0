package socket

import (
	"fmt"
	"time"

	"golang.org/x/sys/unix"

	"kmsd/wire/api"
	"kmsd/wire/ring"
)

// Shared-memory rings (package kmsd/wire/ring): a client that says Ring
// in its Hello gets, if the server offers them (Config.RingSize) and its
// uid has rings left, an area made for the connection, handed over with
// the Hello answer (SCM_RIGHTS). Every later frame, either way, goes
// through the rings; the socket then only carries wake-ups (a byte to a
// side asleep on it, ring.SocketBell), and its end is the connection's.
// Admission, budgets,
// the trail and the answers are the socket's own: only the bytes' path
// differs.

// answerHello answers Hello, with the connection's rings when the client
// asked for them and may have them.
func (c *conn) answerHello(id uint64, in *api.HelloInput) {
	out := c.s.cfg.Hello()
	if in == nil || !in.Ring || c.s.cfg.RingSize == 0 {
		c.answerNow(api.OpHello, id, in, out, nil)
		return
	}
	fd, rc, err := c.s.takeRing(c.caller.P.UID)
	if err != nil {
		c.s.log.Warn("answering Hello without rings", "pid", c.caller.P.PID, "reason", err.Error())
	}
	if rc == nil {
		c.answerNow(api.OpHello, id, in, out, nil)
		return
	}
	defer unix.Close(fd)
	o := *out
	o.Ring = int32(c.s.cfg.RingSize)
	if aerr := c.record(api.OpHello, id, in, &o, nil); aerr != nil {
		c.s.giveRing(c.caller.P.UID, rc)
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
		c.s.giveRing(c.caller.P.UID, rc)
	} else {
		bell, _ := ring.NewSocketBell(c.nc) // never fails for a socket
		rc.SetBell(bell)
		c.ring = rc
	}
	c.flushed(c.cost, 1)
}

// takeRing makes the rings of a connection of uid, unless the server or
// uid has all its rings out; it returns the area's memfd (for the
// client) and kmsd's mapping of it, or none, and an error if making
// them failed.
func (s *Server) takeRing(uid uint32) (int, *ring.Conn, error) {
	s.mu.Lock()
	if s.rings >= s.cfg.MaxRings || s.ringsBy[uid] >= s.ringsPerUID() {
		s.mu.Unlock()
		return -1, nil, nil
	}
	s.rings++
	s.ringsBy[uid]++
	s.mu.Unlock()
	fd, err := ring.Create(s.cfg.RingSize)
	var rc *ring.Conn
	if err == nil {
		if rc, err = ring.Map(fd, s.cfg.RingSize, ring.Server); err != nil {
			unix.Close(fd)
		}
	}
	if err != nil {
		s.giveRing(uid, nil)
		return -1, nil, fmt.Errorf("making the rings: %w", err)
	}
	return fd, rc, nil
}

// ringsPerUID is how many rings one uid may hold: a quarter of them, so
// that one user cannot take every ring.
func (s *Server) ringsPerUID() int { return max(1, s.cfg.MaxRings/4) }

// giveRing unmaps rc (if any) and gives its place back.
func (s *Server) giveRing(uid uint32, rc *ring.Conn) {
	if rc != nil {
		rc.Unmap()
	}
	s.mu.Lock()
	s.rings--
	if s.ringsBy[uid]--; s.ringsBy[uid] == 0 {
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
