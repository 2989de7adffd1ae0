package daemon

import (
	"errors"
	"net"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"kmsd/daemon/pipeline"
)

// The metrics listener's allowance: a scrape needs one connection, a few
// scrapers a few; no one may hold more. Its connections count in kmsd's
// total too (pipeline.Admission.AdmitAux), never in root's reserve, and
// an idle one is closed (metricsIdle).
const (
	metricsConns        = 16
	metricsConnsPerPeer = 4
	metricsIdle         = 30 * time.Second
)

// admittedListener is a listener other than the main socket and the AWS
// endpoint whose connections are admitted as kmsd's are: each counts in
// its allowance and in kmsd's total until it is closed; one past them is
// closed at once, and Accept goes on to the next.
type admittedListener struct {
	net.Listener
	name          string
	admit         *pipeline.Admission
	most, perPeer int
}

func (l *admittedListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		peer, uid := peerOf(c)
		if ok, why := l.admit.AdmitAux(l.name, peer, l.most, l.perPeer); !ok {
			c.Close()
			l.admit.Refused(uid, why)
			continue
		}
		return &admittedConn{Conn: c, release: func() { l.admit.ReleaseAux(l.name, peer) }}, nil
	}
}

// peerOf names a connection's peer for its allowance: its uid on a Unix
// socket (SO_PEERCRED), "tcp" for any TCP peer (every local user shares
// the loopback address, so there is no telling them apart). uid is the
// peer's for the refusal log (that of nobody on TCP).
func peerOf(c net.Conn) (peer string, uid uint32) {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return "tcp", 65534
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return "unix", 65534
	}
	var cred *unix.Ucred
	var cerr error
	if err := raw.Control(func(fd uintptr) { cred, cerr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED) }); err != nil || cerr != nil {
		return "unix", 65534
	}
	return "uid:" + strconv.FormatUint(uint64(cred.Uid), 10), cred.Uid
}

// admittedConn gives its place back when it is closed, once.
type admittedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *admittedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	if errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}
