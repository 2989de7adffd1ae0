package testkit

import (
	"bytes"
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
// and /dev/fuse); with KMSD_REQUIRE_FUSE=1 it fails instead, so that the
// FUSE tests cannot silently stop running in CI.
func RequireFUSE(t testing.TB) {
	t.Helper()
	why := ""
	if os.Geteuid() != 0 {
		why = "mounting FUSE directly needs root"
	} else if _, err := os.Stat("/dev/fuse"); err != nil {
		why = "no /dev/fuse"
	}
	require(t, why, "KMSD_REQUIRE_FUSE")
}

// RequireSystemd skips a test that needs systemd's tools unless
// systemd-analyze is installed; with KMSD_REQUIRE_SYSTEMD=1 it fails
// instead. It returns systemd-analyze's path.
func RequireSystemd(t testing.TB) string {
	t.Helper()
	path, err := exec.LookPath("systemd-analyze")
	why := ""
	if err != nil {
		why = "systemd-analyze is not installed"
	}
	require(t, why, "KMSD_REQUIRE_SYSTEMD")
	return path
}

// RequireRoot skips a test that must act as other users.
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to act as other users")
	}
}

func require(t testing.TB, why, env string) {
	t.Helper()
	if why == "" {
		return
	}
	if os.Getenv(env) == "1" {
		t.Fatalf("%s, and %s=1", why, env)
	}
	t.Skip(why)
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
// awscli package installs it as /usr/bin/aws), or skips the test; with
// KMSD_REQUIRE_AWSCLI=1 (CI) its absence fails it instead.
func RequireAWSCLI(t testing.TB) string {
	t.Helper()
	const path = "/usr/bin/aws"
	why := ""
	if out, err := exec.Command(path, "--version").Output(); err != nil {
		why = "the aws CLI is not installed (Debian: apt-get install awscli)"
	} else if !bytes.HasPrefix(out, []byte("aws-cli/2.")) {
		why = "/usr/bin/aws is not the aws CLI version 2: " + string(out)
	}
	require(t, why, "KMSD_REQUIRE_AWSCLI")
	return path
}
