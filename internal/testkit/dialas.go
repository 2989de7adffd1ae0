package testkit

import (
	"fmt"
	"net"
	"os"
	"runtime"
	"syscall"
	"testing"
	"unsafe"
)

// DialAs connects to the Unix socket at path with uid's and gid's
// credentials, as a process of that user would (the kernel records the
// connecting thread's credentials for SO_PEERCRED), without starting one:
// one locked thread takes the ids for the connect and gives them back.
// Root only; the socket must be reachable by that user.
func DialAs(t testing.TB, path string, uid, gid uint32) *net.UnixConn {
	t.Helper()
	RequireRoot(t)
	c, err := dialAs(path, uid, gid)
	if err != nil {
		t.Fatalf("dialing %s as uid %d: %v", path, uid, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func dialAs(path string, uid, gid uint32) (*net.UnixConn, error) {
	runtime.LockOSThread()
	// The thread is not given back to the runtime if its ids could not be
	// restored: a goroutine that exits locked takes its thread with it.
	restored := false
	defer func() {
		if restored {
			runtime.UnlockOSThread()
		}
	}()
	fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	// Raw system calls change this thread's ids only (glibc's and Go's
	// setuid change every thread's); saved ids of 0 let it take them back.
	// The thread drops its supplementary groups for the connect too.
	var groups [256]uint32
	ng, _, e := syscall.RawSyscall(syscall.SYS_GETGROUPS, uintptr(len(groups)), uintptr(unsafe.Pointer(&groups[0])), 0)
	if e != 0 {
		syscall.Close(fd)
		restored = true
		return nil, fmt.Errorf("getgroups: %w", e)
	}
	setGroups := func(n uintptr) syscall.Errno {
		_, _, e := syscall.RawSyscall(syscall.SYS_SETGROUPS, n, uintptr(unsafe.Pointer(&groups[0])), 0)
		return e
	}
	if e := setGroups(0); e != 0 {
		syscall.Close(fd)
		restored = true
		return nil, fmt.Errorf("setgroups: %w", e)
	}
	if _, _, e := syscall.RawSyscall(syscall.SYS_SETRESGID, uintptr(gid), uintptr(gid), 0); e != 0 {
		setGroups(ng)
		syscall.Close(fd)
		restored = true
		return nil, fmt.Errorf("setresgid: %w", e)
	}
	if _, _, e := syscall.RawSyscall(syscall.SYS_SETRESUID, uintptr(uid), uintptr(uid), 0); e != 0 {
		syscall.RawSyscall(syscall.SYS_SETRESGID, 0, 0, 0)
		setGroups(ng)
		syscall.Close(fd)
		restored = true
		return nil, fmt.Errorf("setresuid: %w", e)
	}
	cerr := syscall.Connect(fd, &syscall.SockaddrUnix{Name: path})
	_, _, e1 := syscall.RawSyscall(syscall.SYS_SETRESUID, 0, 0, 0)
	_, _, e2 := syscall.RawSyscall(syscall.SYS_SETRESGID, 0, 0, 0)
	restored = e1 == 0 && e2 == 0 && setGroups(ng) == 0
	if cerr != nil {
		syscall.Close(fd)
		return nil, cerr
	}
	f := os.NewFile(uintptr(fd), path)
	defer f.Close()
	nc, err := net.FileConn(f)
	if err != nil {
		return nil, err
	}
	return nc.(*net.UnixConn), nil
}
