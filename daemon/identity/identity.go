// Package identity finds out who a caller is from what the kernel says:
// the credentials of the process at the other end of a Unix socket
// (SO_PEERCRED, SO_PEERGROUPS), and what /proc says of that process (its
// systemd unit from /proc/PID/cgroup, its executable), guarded against the
// pid having been reused by a pidfd (SO_PEERPIDFD) that must still name a
// live process after /proc was read.
//
// What cannot be verified is left empty rather than guessed: a caller
// whose process has exited, or on a kernel without SO_PEERPIDFD (Linux
// < 6.5), has no unit and no executable. Its uid, gid and groups, fixed at
// connect(), are always known.
package identity

import (
	"fmt"
	"net"
	"unsafe"

	"golang.org/x/sys/unix"

	"kmsd/daemon/policy"
)

// ProcRoot is where /proc is; tests do not change it.
var ProcRoot = "/proc"

// FromConn returns the principal at the other end of a Unix socket.
func FromConn(c *net.UnixConn) (*policy.Principal, error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return nil, err
	}
	var cred *unix.Ucred
	var groups []uint32
	pidfd := -1
	var credErr error
	err = raw.Control(func(fd uintptr) {
		cred, credErr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
		if credErr != nil {
			return
		}
		groups = peerGroups(int(fd))
		if n, err := unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_PEERPIDFD); err == nil {
			pidfd = n
		}
	})
	if err != nil {
		return nil, err
	}
	if credErr != nil {
		return nil, fmt.Errorf("SO_PEERCRED: %w", credErr)
	}
	// uid, gid and groups were fixed at connect(): always right.
	p := &policy.Principal{UID: cred.Uid, GID: cred.Gid, PID: cred.Pid, Groups: groups, Source: "socket"}
	if pidfd < 0 || cred.Pid <= 0 {
		return p, nil // no way to tie /proc to this peer
	}
	defer unix.Close(pidfd)
	d, err := openProc(cred.Pid)
	if err != nil {
		return p, nil // gone already
	}
	defer d.close()
	if groups == nil {
		groups, _ = d.groups()
	}
	unit, exe := d.unit(), d.exe()
	if unix.PidfdSendSignal(pidfd, 0, nil, 0) != nil {
		// The peer is gone: what /proc said may be another process's.
		return p, nil
	}
	p.Groups, p.Unit, p.Exe = groups, unit, exe
	return p, nil
}

// FromProcess returns the principal of a process the kernel named by pid
// (or thread id) with the given uid and gid, as FUSE reports callers. There
// is no pidfd for a FUSE request, so the unit is read without that guard;
// the caller must bind the result to what it authorizes at once.
func FromProcess(pid int32, uid, gid uint32, source string) *policy.Principal {
	p := &policy.Principal{UID: uid, GID: gid, Source: source}
	if pid <= 0 {
		return p
	}
	// The thread that made the request is what the kernel names: its
	// status gives both the process id and the groups it acted with, and
	// its cgroup and executable are its process's.
	p.PID = pid
	d, err := openProc(pid)
	if err != nil {
		return p // gone already: no groups, unit or executable
	}
	defer d.close()
	if b, err := d.file("status"); err == nil {
		if tgid, err := statusTgid(b); err == nil {
			p.PID = tgid
		}
		p.Groups, _ = statusGroups(b)
	}
	p.Unit, p.Exe = d.unit(), d.exe()
	return p
}

// peerGroups reads SO_PEERGROUPS: the supplementary groups at connect().
// (unix.GetsockoptString would stop at the first zero byte of the array.)
func peerGroups(fd int) []uint32 {
	buf := make([]uint32, 64)
	for {
		n := uint32(len(buf) * 4)
		_, _, errno := unix.Syscall6(unix.SYS_GETSOCKOPT, uintptr(fd), unix.SOL_SOCKET, unix.SO_PEERGROUPS,
			uintptr(unsafe.Pointer(&buf[0])), uintptr(unsafe.Pointer(&n)), 0)
		if errno == unix.ERANGE && n > uint32(len(buf)*4) && n <= 65536*4 {
			buf = make([]uint32, n/4)
			continue
		}
		if errno != 0 {
			return nil
		}
		return buf[:n/4]
	}
}
