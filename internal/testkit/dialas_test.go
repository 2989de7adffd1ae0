package testkit

import (
	"net"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// TestDialAs: the server sees the ids DialAs connected with, and the
// process keeps its own.
func TestDialAs(t *testing.T) {
	RequireRoot(t)
	dir := ShortDir(t)
	path := filepath.Join(dir, "s")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	os.Chmod(dir, 0o755)
	os.Chmod(path, 0o777)
	for _, uid := range []uint32{65534, 5101, 0} {
		c := DialAs(t, path, uid, uid+1)
		s, err := l.AcceptUnix()
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := s.SyscallConn()
		var cred *unix.Ucred
		raw.Control(func(fd uintptr) { cred, err = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED) })
		if err != nil || cred.Uid != uid || cred.Gid != uid+1 {
			t.Errorf("dialed as %d: peer %+v %v", uid, cred, err)
		}
		s.Close()
		c.Close()
	}
	if unix.Getuid() != 0 || unix.Getgid() != 0 {
		t.Fatal("the test process lost its ids")
	}
}
