package identity

import (
	"kmsd/internal/ci"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"
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
	ln.SetDeadline(time.Now().Add(20 * time.Second))
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

// TestProcDirOutlivesNoProcess reads a child's identity through its /proc
// directory, then lets the child exit: what is read through the directory
// afterwards fails instead of describing whichever process gets the pid
// next, and FromProcess of the dead pid names no executable.
func TestProcDirOutlivesNoProcess(t *testing.T) {
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		ci.Skip(t, "sleep(1) is needed as a child process")
	}
	cmd := exec.Command(sleep, "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := int32(cmd.Process.Pid)
	d, err := openProc(pid)
	if err != nil {
		t.Fatal(err)
	}
	defer d.close()
	want, _ := filepath.EvalSymlinks(sleep)
	if got := d.exe(); got != want {
		t.Fatalf("exe through the open directory: %q, want %q", got, want)
	}
	if p := FromProcess(pid, 0, 0, "fuse"); p.Exe != want || p.PID != pid {
		t.Fatalf("FromProcess of the live child: %+v", p)
	}
	cmd.Process.Kill()
	cmd.Wait()
	if got := d.exe(); got != "" {
		t.Fatalf("exe after the child was reaped: %q, want none", got)
	}
	if _, err := d.file("status"); err == nil {
		t.Fatal("status read after the child was reaped")
	}
	if p := FromProcess(pid, 0, 0, "fuse"); p.Exe != "" || p.Unit != "" || p.Groups != nil {
		t.Fatalf("FromProcess of a reaped pid: %+v", p)
	}
}

// TestPeerGroupsOfAnotherUser connects from a child running as another
// uid with supplementary groups (needs root): every group must arrive,
// including ones whose little-endian bytes contain zeros.
func TestPeerGroupsOfAnotherUser(t *testing.T) {
	if os.Getenv("KMSD_IDENTITY_CHILD") != "" { // the child: connect and wait
		c, err := net.Dial("unix", os.Getenv("KMSD_IDENTITY_CHILD"))
		if err == nil {
			c.Read(make([]byte, 1))
			c.Close()
		}
		return
	}
	if os.Geteuid() != 0 {
		ci.Skip(t, "needs root")
	}
	dir, _ := os.MkdirTemp("", "kmsdid")
	defer os.RemoveAll(dir)
	os.Chmod(dir, 0o755)
	sock := filepath.Join(dir, "s")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	os.Chmod(sock, 0o777)
	// The test binary's own directory is private: run a copy the other uid can reach.
	self, _ := os.Executable()
	b, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(dir, "child")
	if err := os.WriteFile(exe, b, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run", "^TestPeerGroupsOfAnotherUser$")
	cmd.Env = append(os.Environ(), "KMSD_IDENTITY_CHILD="+sock)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 5101, Gid: 5101, Groups: []uint32{4242, 256, 70000}}}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	ln.SetDeadline(time.Now().Add(20 * time.Second))
	c, err := ln.AcceptUnix()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	p, err := FromConn(c)
	c.Write([]byte{1})
	if err != nil {
		t.Fatal(err)
	}
	want := []uint32{256, 4242, 70000}
	got := slices.Clone(p.Groups)
	slices.Sort(got)
	if p.UID != 5101 || p.GID != 5101 || !slices.Equal(got, want) || p.PID != int32(cmd.Process.Pid) {
		t.Fatalf("%+v, want groups %v", p, want)
	}
}

// BenchmarkFromProcess is the identity a FUSE open costs: this process's
// status, cgroup and executable through its /proc directory.
func BenchmarkFromProcess(b *testing.B) {
	pid := int32(os.Getpid())
	for b.Loop() {
		if p := FromProcess(pid, 0, 0, "fuse"); p.Exe == "" {
			b.Fatal("no executable")
		}
	}
}
