package daemon

import (
	"fmt"
	"net"

	"golang.org/x/sys/unix"

	"kmsd/daemon/kms"
)

// peerPrincipal reads the peer's credentials (SO_PEERCRED), which the
// kernel recorded at connect() and translated into kmsd's namespaces.
func peerPrincipal(c *net.UnixConn) (*kms.Principal, error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return nil, err
	}
	var cred *unix.Ucred
	var serr error
	if err := raw.Control(func(fd uintptr) {
		cred, serr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return nil, err
	}
	if serr != nil {
		return nil, fmt.Errorf("SO_PEERCRED: %w", serr)
	}
	return &kms.Principal{UID: cred.Uid, GID: cred.Gid, PID: cred.Pid, Source: "socket"}, nil
}
