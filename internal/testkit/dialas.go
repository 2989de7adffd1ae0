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

// ConnectAs is DialAs for callers without a test (goroutines of a long
// run): it returns the error instead of failing a test, and the caller
// closes the connection.
func ConnectAs(path string, uid, gid uint32) (*net.UnixConn, error) { return dialAs(path, uid, gid) }

func dialAs(path string, uid, gid uint32) (*net.UnixConn, error) {
	var nc net.Conn
	err := asUser(uid, gid, func() error {
		fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
		if err != nil {
			return err
		}
		if err := syscall.Connect(fd, &syscall.SockaddrUnix{Name: path}); err != nil {
			syscall.Close(fd)
			return err
		}
		f := os.NewFile(uintptr(fd), path)
		defer f.Close()
		nc, err = net.FileConn(f)
		return err
	})
	if err != nil {
		return nil, err
	}
	return nc.(*net.UnixConn), nil
}

// ListenAs makes a Unix socket at path whose listener has uid's and
// gid's credentials (what a client reads with SO_PEERCRED), as a server
// of that user would: an impostor, for the tests of a client that checks
// who serves its socket. Root only; the directory must be writable by
// that user.
func ListenAs(t testing.TB, path string, uid, gid uint32) *net.UnixListener {
	t.Helper()
	RequireRoot(t)
	var l net.Listener
	err := asUser(uid, gid, func() error {
		fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
		if err != nil {
			return err
		}
		if err := syscall.Bind(fd, &syscall.SockaddrUnix{Name: path}); err != nil {
			syscall.Close(fd)
			return err
		}
		if err := syscall.Listen(fd, 16); err != nil {
			syscall.Close(fd)
			return err
		}
		f := os.NewFile(uintptr(fd), path)
		defer f.Close()
		l, err = net.FileListener(f)
		return err
	})
	if err != nil {
		t.Fatalf("listening at %s as uid %d: %v", path, uid, err)
	}
	t.Cleanup(func() { l.Close(); os.Remove(path) })
	return l.(*net.UnixListener)
}

// asUser runs fn on one locked thread that has uid's and gid's ids and no
// supplementary groups while fn runs, and gives them back after. Raw
// system calls change this thread's ids only (glibc's and Go's setuid
// change every thread's); saved ids of 0 let it take them back. The thread
// is not given back to the runtime if its ids could not be restored: a
// goroutine that exits locked takes its thread with it.
func asUser(uid, gid uint32, fn func() error) error {
	runtime.LockOSThread()
	restored := false
	defer func() {
		if restored {
			runtime.UnlockOSThread()
		}
	}()
	var groups [256]uint32
	ng, _, e := syscall.RawSyscall(syscall.SYS_GETGROUPS, uintptr(len(groups)), uintptr(unsafe.Pointer(&groups[0])), 0)
	if e != 0 {
		restored = true
		return fmt.Errorf("getgroups: %w", e)
	}
	setGroups := func(n uintptr) syscall.Errno {
		_, _, e := syscall.RawSyscall(syscall.SYS_SETGROUPS, n, uintptr(unsafe.Pointer(&groups[0])), 0)
		return e
	}
	if e := setGroups(0); e != 0 {
		restored = true
		return fmt.Errorf("setgroups: %w", e)
	}
	if _, _, e := syscall.RawSyscall(syscall.SYS_SETRESGID, uintptr(gid), uintptr(gid), 0); e != 0 {
		restored = setGroups(ng) == 0
		return fmt.Errorf("setresgid: %w", e)
	}
	if _, _, e := syscall.RawSyscall(syscall.SYS_SETRESUID, uintptr(uid), uintptr(uid), 0); e != 0 {
		_, _, e2 := syscall.RawSyscall(syscall.SYS_SETRESGID, 0, 0, 0)
		restored = e2 == 0 && setGroups(ng) == 0
		return fmt.Errorf("setresuid: %w", e)
	}
	err := fn()
	_, _, e1 := syscall.RawSyscall(syscall.SYS_SETRESUID, 0, 0, 0)
	_, _, e2 := syscall.RawSyscall(syscall.SYS_SETRESGID, 0, 0, 0)
	restored = e1 == 0 && e2 == 0 && setGroups(ng) == 0
	return err
}
