package testkit

import (
	"bytes"
	"kmsd/internal/ci"
	"os"
	"os/exec"
	"testing"
	"time"
)

// ShortDir is a temporary directory with a path short enough for a Unix
// socket (108 bytes), removed after the test.
func ShortDir(t testing.TB) string {
	t.Helper()
	d, err := os.MkdirTemp("", "kmsd")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

// RequireFUSE skips a test that mounts unless kmsd can mount here (root
// and /dev/fuse); in CI it fails instead (package kmsd/internal/ci).
func RequireFUSE(t testing.TB) {
	t.Helper()
	why := ""
	if os.Geteuid() != 0 {
		why = "mounting FUSE directly needs root"
	} else if _, err := os.Stat("/dev/fuse"); err != nil {
		why = "no /dev/fuse"
	}
	require(t, why)
}

// RequireSystemd skips a test that needs systemd's tools unless
// systemd-analyze is installed; in CI it fails instead. It returns
// systemd-analyze's path.
func RequireSystemd(t testing.TB) string {
	t.Helper()
	path, err := exec.LookPath("systemd-analyze")
	why := ""
	if err != nil {
		why = "systemd-analyze is not installed"
	}
	require(t, why)
	return path
}

// RequireRoot skips a test that must act as other users, mount or
// manage cgroups; in CI it fails instead.
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		ci.Skip(t, "needs root (to act as other users, mount, or make cgroups)")
	}
}

// require skips (in CI fails) a test for why, unless why is "".
func require(t testing.TB, why string) {
	t.Helper()
	if why != "" {
		ci.Skip(t, why)
	}
}

// Eventually waits for cond, polling; the test fails if it does not hold
// within a minute (a guard against a hang, not a timing assertion).
func Eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("never: %s", what)
		}
	}
}

// RequireAWSCLI returns the path of the aws CLI version 2 (Debian's
// awscli package installs it as /usr/bin/aws), or skips the test; in CI
// its absence fails it instead.
func RequireAWSCLI(t testing.TB) string {
	t.Helper()
	const path = "/usr/bin/aws"
	why := ""
	if out, err := exec.Command(path, "--version").Output(); err != nil {
		why = "the aws CLI is not installed (Debian: apt-get install awscli)"
	} else if !bytes.HasPrefix(out, []byte("aws-cli/2.")) {
		why = "/usr/bin/aws is not the aws CLI version 2: " + string(out)
	}
	require(t, why)
	return path
}
