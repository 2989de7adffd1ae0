package identity

import (
	"net"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestUnitFromCgroup(t *testing.T) {
	cases := []struct{ in, want string }{
		{"0::/system.slice/nginx.service\n", "nginx.service"},
		{"0::/system.slice/nginx.service/worker\n", "nginx.service"},
		{"0::/user.slice/user-1000.slice/user@1000.service/app.slice/bar.service\n", "user@1000.service"},
		{"0::/user.slice/user-1000.slice/session-3.scope\n", "session-3.scope"},
		{"0::/kmsdtest-1.service\n", "kmsdtest-1.service"},
		{"0::/\n", ""},
		{"0::/docker/abc123\n", ""},
		{"0::/system.slice\n", ""},
		{"12:pids:/system.slice/x.service\n9:name=systemd:/system.slice/cron.service\n0::/\n", "cron.service"},
		{"9:name=systemd:/system.slice/a.service\n0::/system.slice/b.service\n", "b.service"},
		{"garbage", ""},
		{"", ""},
	}
	for _, c := range cases {
		if got := UnitFromCgroup([]byte(c.in)); got != c.want {
			t.Errorf("%q: %q, want %q", c.in, got, c.want)
		}
	}
}

func TestFromConnIsThisProcess(t *testing.T) {
	dir := t.TempDir()
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: filepath.Join(dir, "s"), Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err := net.Dial("unix", filepath.Join(dir, "s"))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	c, err := ln.AcceptUnix()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	p, err := FromConn(c)
	if err != nil {
		t.Fatal(err)
	}
	if p.UID != uint32(os.Getuid()) || p.GID != uint32(os.Getgid()) || p.PID != int32(os.Getpid()) || p.Source != "socket" {
		t.Fatalf("%+v", p)
	}
	exe, _ := os.Executable()
	if p.Exe != exe {
		t.Fatalf("exe %q, want %q", p.Exe, exe)
	}
	groups, _ := os.Getgroups()
	for _, g := range groups {
		if !slices.Contains(p.Groups, uint32(g)) {
			t.Fatalf("groups %v lack %d", p.Groups, g)
		}
	}
	self, _ := os.ReadFile("/proc/self/cgroup")
	if p.Unit != UnitFromCgroup(self) {
		t.Fatalf("unit %q", p.Unit)
	}
}

func TestFromProcessMapsThreadToProcess(t *testing.T) {
	p := FromProcess(int32(os.Getpid()), 5, 6, "fuse")
	if p.PID != int32(os.Getpid()) || p.UID != 5 || p.GID != 6 || p.Source != "fuse" {
		t.Fatalf("%+v", p)
	}
	if q := FromProcess(0, 1, 1, "fuse"); q.PID != 0 || q.Unit != "" {
		t.Fatalf("%+v", q)
	}
}
