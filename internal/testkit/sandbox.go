package testkit

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Sandbox is a real systemd, running as PID 1 of a PID and mount
// namespace of its own, on a copy-on-write view of the host's root (an
// overlay whose writes go to a tmpfs): a test installs kmsd's units in
// it, enables them, and stops, kills and restarts kmsd with systemctl as
// an operator would, and nothing it does reaches the host's files. Only
// sandbox.target is started at boot (no sysinit.target work: no
// tmpfiles, sysctl or services the host has enabled), with journald.
//
// Booting systemd on the host's own file system instead would run
// systemd-tmpfiles --boot, which empties /tmp.
type Sandbox struct {
	// Repo is the module's directory, seen at the same path inside (its
	// own overlay: a build there writes nothing to the host's tree).
	Repo string
	pid  int // systemd's pid, as the host sees it
	cmd  *exec.Cmd
}

// bootScript prepares the sandbox's root and execs systemd in it. It
// runs in new mount and PID namespaces (unshare); $1 is an empty
// directory of the host's to mount the sandbox on, $2 the module's
// directory, $3 and $4 Go's build and module caches (shared, as a
// build's cache is).
const bootScript = `set -eu
B=$1 REPO=$2 GOCACHE=$3 GOMODCACHE=$4
mount -t tmpfs -o size=4g,mode=0700 sandbox "$B"
mkdir -p "$B/upper" "$B/work" "$B/repo-upper" "$B/repo-work" "$B/root"
mount -t overlay overlay -o "lowerdir=/,upperdir=$B/upper,workdir=$B/work" "$B/root"
R=$B/root
mount -t proc proc "$R/proc"
mount --rbind /sys "$R/sys"
# The cgroup file systems again, as this cgroup namespace sees them: the
# sandbox's own subtree, where its systemd may do as it likes.
if [ -e /sys/fs/cgroup/cgroup.controllers ]; then
	mount -t cgroup2 cgroup2 "$R/sys/fs/cgroup"
else
	mount -t tmpfs -o mode=0755 cgroup "$R/sys/fs/cgroup"
	mkdir -p "$R/sys/fs/cgroup/systemd"
	mount -t cgroup -o none,name=systemd cgroup "$R/sys/fs/cgroup/systemd"
	if [ -d /sys/fs/cgroup/unified ]; then
		mkdir -p "$R/sys/fs/cgroup/unified"
		mount -t cgroup2 cgroup2 "$R/sys/fs/cgroup/unified"
	fi
fi
mount -t tmpfs -o mode=0755 dev "$R/dev"
for n in null zero full random urandom tty fuse loop-control; do
	[ -e "/dev/$n" ] || continue
	touch "$R/dev/$n"; mount --bind "/dev/$n" "$R/dev/$n"
done
for n in /dev/loop[0-9]*; do
	[ -b "$n" ] || continue
	touch "$R$n"; mount --bind "$n" "$R$n"
done
mkdir -p "$R/dev/pts" "$R/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666 devpts "$R/dev/pts"
ln -s pts/ptmx "$R/dev/ptmx"
mount -t tmpfs tmpfs "$R/dev/shm"
mount -t tmpfs -o mode=0755 tmpfs "$R/run"
mount -t tmpfs -o mode=1777 tmpfs "$R/tmp"
# After /tmp's tmpfs, which would hide a checkout or cache under /tmp.
mkdir -p "$R$REPO"
mount -t overlay overlay -o "lowerdir=$REPO,upperdir=$B/repo-upper,workdir=$B/repo-work" "$R$REPO"
for d in "$GOCACHE" "$GOMODCACHE"; do
	[ -d "$d" ] || continue
	mkdir -p "$R$d"; mount --bind "$d" "$R$d"
done
# Nothing the host enables starts here.
U=$R/etc/systemd/system
for f in /lib/systemd/system/sysinit.target.wants/* /etc/systemd/system/*.target.wants/*; do
	[ -e "$f" ] || [ -L "$f" ] || continue
	case "$(basename "$f")" in systemd-journald.service) continue ;; esac
	ln -sf /dev/null "$U/$(basename "$f")"
done
cat > "$U/sandbox.target" <<'EOF'
[Unit]
Description=A test's sandbox
Wants=systemd-journald.socket systemd-journald-dev-log.socket dbus.socket
EOF
# Shared within the sandbox (as systemd makes / at boot), so that what a
# unit's setup mounts in a namespace of its own (credentials) shows in
# the sandbox's; nothing propagates to the host's, which unshare made
# private.
mount --make-rshared "$R"
exec chroot "$R" env -i container=kmsd-test PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	/lib/systemd/systemd --system --unit=sandbox.target --log-target=journal-or-kmsg </dev/null >/dev/null 2>&1
`

// BootSystemd boots a [Sandbox] for the test and shuts it down (SIGKILL to
// its systemd, which ends everything in it) when the test ends. It skips
// unless this machine can (root, unshare, overlayfs, systemd); in CI it
// fails instead.
func BootSystemd(t testing.TB) *Sandbox {
	t.Helper()
	why := ""
	if os.Geteuid() != 0 {
		why = "booting a systemd sandbox needs root"
	} else if _, err := os.Stat("/lib/systemd/systemd"); err != nil {
		why = "no /lib/systemd/systemd"
	} else if _, err := exec.LookPath("unshare"); err != nil {
		why = "no unshare"
	} else if _, err := exec.LookPath("nsenter"); err != nil {
		why = "no nsenter"
	}
	require(t, why)
	repo, err := moduleDir()
	if err != nil {
		t.Fatal(err)
	}
	box := ShortDir(t)
	gocache, _ := exec.Command("go", "env", "GOCACHE").Output()
	gomod, _ := exec.Command("go", "env", "GOMODCACHE").Output()
	s := &Sandbox{Repo: repo}
	cgroups, err := sandboxCgroups(filepath.Base(box))
	if err != nil {
		t.Fatal(err)
	}
	// The wrapper joins the sandbox's cgroups, then becomes unshare, which
	// makes them the root of the sandbox's cgroup namespace.
	wrapper := `for cg; do echo $$ > "$cg/cgroup.procs"; done
exec unshare --mount --pid --fork --cgroup --uts --ipc --net --propagation private --kill-child \
	/bin/sh -c "$BOOT" boot "$BOX" "$REPO" "$GOCACHE_DIR" "$GOMOD_DIR"`
	s.cmd = exec.Command("/bin/sh", append([]string{"-c", wrapper, "wrapper"}, cgroups...)...)
	s.cmd.Env = append(os.Environ(), "BOOT="+bootScript, "BOX="+box, "REPO="+repo,
		"GOCACHE_DIR="+strings.TrimSpace(string(gocache)), "GOMOD_DIR="+strings.TrimSpace(string(gomod)))
	// If the test binary dies (a timeout's panic, a kill), unshare gets
	// SIGKILL, and with --kill-child the sandbox goes too: nothing leaks.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	var log Log
	s.cmd.Stdout, s.cmd.Stderr = &log, &log
	if err := s.cmd.Start(); err != nil {
		removeCgroups(cgroups)
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.cmd.Process.Kill() // --kill-child: systemd, and with it the namespace
		s.cmd.Wait()
		if err := removeCgroups(cgroups); err != nil {
			t.Error(err)
		}
	})
	deadline := time.Now().Add(time.Minute)
	for {
		if s.pid == 0 {
			s.pid = childOf(s.cmd.Process.Pid)
		}
		if s.pid != 0 {
			out, _ := s.exec("systemctl is-system-running").Output()
			if st := strings.TrimSpace(string(out)); st == "running" || st == "degraded" {
				return s
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the systemd sandbox did not come up:\n%s", log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TrackedOnly makes the sandbox's view of the checkout a fresh one: its
// tracked files, as they are in the working tree, and nothing else
// (git clean -ffdx on the sandbox's overlay; the host's checkout is not
// touched). A document's walkthrough that was followed in the checkout
// (its kmsd-state/, its socket, its files) then cannot change what the
// document's test sees. Outside a git checkout it does nothing.
func (s *Sandbox) TrackedOnly(t testing.TB) {
	t.Helper()
	if _, _, err := s.Run(s.Repo, "git rev-parse --is-inside-work-tree >/dev/null 2>&1"); err != nil {
		t.Logf("%s is not a git checkout: the sandbox sees all its files", s.Repo)
		return
	}
	if _, errs, err := s.Run(s.Repo, "git clean -ffdxq"); err != nil {
		t.Fatalf("git clean in the sandbox: %v\n%s", err, errs)
	}
}

// Run runs script with bash (set -euo pipefail) in the sandbox, in dir,
// as root with a login's PATH, and returns its output. What the script
// leaves running in the background (a document's `kmsd &`) may keep its
// output open: Run returns a few seconds after bash exits regardless.
func (s *Sandbox) Run(dir, script string) (stdout, stderr string, err error) {
	cmd := s.exec("cd " + strconv.Quote(dir) + "\n" + script)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	cmd.WaitDelay = 3 * time.Second
	if err = cmd.Run(); errors.Is(err, exec.ErrWaitDelay) {
		err = nil // bash succeeded; a background child holds the pipes
	}
	return o.String(), e.String(), err
}

// MustRun is Run for a step that must succeed.
func (s *Sandbox) MustRun(t testing.TB, script string) string {
	t.Helper()
	out, errs, err := s.Run(s.Repo, script)
	if err != nil {
		t.Fatalf("in the sandbox: %v\n%s\n--- stdout:\n%s--- stderr:\n%s", err, script, out, errs)
	}
	return out
}

// Path is the host's path to a file in the sandbox (through its systemd's
// /proc/PID/root): a test may connect to a socket kmsd serves there.
func (s *Sandbox) Path(p string) string {
	return "/proc/" + strconv.Itoa(s.pid) + "/root" + p
}

// exec is a bash in the sandbox's namespaces and root.
func (s *Sandbox) exec(script string) *exec.Cmd {
	env := []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:" + filepath.Dir(goBinary()), "HOME=/root", "LANG=C.UTF-8"}
	for _, k := range []string{"GOCACHE", "GOMODCACHE", "GOPROXY", "GOFLAGS", "GOTOOLCHAIN", "GONOSUMDB", "GOSUMDB"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	cmd := exec.Command("nsenter", "-t", strconv.Itoa(s.pid), "-m", "-p", "-C", "-u", "-i", "-n", "-r", "-w",
		"/bin/bash", "-euo", "pipefail", "-c", script)
	cmd.Env = env
	return cmd
}

// sandboxCgroups makes the cgroups a sandbox runs in, one in each
// hierarchy systemd uses (the unified one; or name=systemd, and unified
// if there is one): its systemd sees them as its root, and its units'
// cgroups go below, never among the host's.
func sandboxCgroups(name string) ([]string, error) {
	var dirs []string
	if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err == nil {
		dirs = []string{"/sys/fs/cgroup/" + name}
	} else {
		for _, h := range []string{"systemd", "unified"} {
			if _, err := os.Stat("/sys/fs/cgroup/" + h + "/cgroup.procs"); err == nil {
				dirs = append(dirs, "/sys/fs/cgroup/"+h+"/"+name)
			}
		}
	}
	if len(dirs) == 0 {
		return nil, fmt.Errorf("no cgroup hierarchy for systemd under /sys/fs/cgroup")
	}
	for _, d := range dirs {
		if err := os.Mkdir(d, 0o755); err != nil {
			removeCgroups(dirs)
			return nil, err
		}
	}
	return dirs, nil
}

// removeCgroups removes a sandbox's cgroups, deepest first, once the
// processes in them are gone.
func removeCgroups(dirs []string) error {
	var err error
	for range 100 {
		err = nil
		for _, d := range dirs {
			var sub []string
			filepath.WalkDir(d, func(p string, e os.DirEntry, werr error) error {
				if werr == nil && e.IsDir() {
					sub = append(sub, p)
				}
				return nil
			})
			for i := len(sub) - 1; i >= 0; i-- {
				if rerr := os.Remove(sub[i]); rerr != nil && !os.IsNotExist(rerr) {
					err = rerr
				}
			}
		}
		if err == nil {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("removing the sandbox's cgroups: %w", err)
}

// childOf returns the first child of pid, or 0.
func childOf(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	n, _ := strconv.Atoi(f[0])
	return n
}

// goBinary is the go command's path.
func goBinary() string {
	p, err := exec.LookPath("go")
	if err != nil {
		return "/usr/local/go/bin/go"
	}
	return p
}

// moduleDir is the directory of kmsd's go.mod.
func moduleDir() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", fmt.Errorf("not in kmsd's module")
	}
	return filepath.Dir(mod), nil
}
