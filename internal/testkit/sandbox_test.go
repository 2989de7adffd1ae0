package testkit

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The sandbox's systemd runs units, and what happens in it stays there;
// TrackedOnly leaves the sandbox the checkout's tracked files alone.
func TestSandbox(t *testing.T) {
	s := BootSystemd(t)
	// what a walkthrough followed in the checkout leaves: an untracked
	// file and an ignored one (made in the sandbox's view of it: planted
	// in the host's checkout, they would show in other tests' sandboxes)
	left := []string{"kmsd-sandbox-left", "kmsd-sandbox-left.prof"}
	seen := s.MustRun(t, "touch "+strings.Join(left, " ")+"; ls -a")
	s.TrackedOnly(t)
	after := s.MustRun(t, "ls -a")
	for _, name := range left {
		if !strings.Contains(seen, name) {
			t.Fatalf("the sandbox did not see %s before TrackedOnly: %q", name, seen)
		}
		if strings.Contains(after, name) {
			t.Errorf("after TrackedOnly the sandbox still sees %s:\n%s", name, after)
		}
		if _, err := os.Stat(filepath.Join(s.Repo, name)); err == nil {
			t.Errorf("%s, made in the sandbox, is in the host's checkout", name)
		}
	}
	if !strings.Contains(after, "go.mod") {
		t.Errorf("after TrackedOnly the tracked files are gone:\n%s", after)
	}
	out := s.MustRun(t, `systemd-run --wait --quiet --pipe -p Type=oneshot /bin/sh -c 'echo from a unit > /etc/kmsd-sandbox-test; cat /etc/kmsd-sandbox-test'
touch bin-sandbox-test
readlink /proc/1/exe`)
	if !strings.Contains(out, "from a unit") || !strings.Contains(out, "/systemd") {
		t.Errorf("in the sandbox: %q", out)
	}
	for _, f := range []string{"/etc/kmsd-sandbox-test", s.Repo + "/bin-sandbox-test"} {
		if _, err := os.Stat(f); err == nil {
			os.Remove(f)
			t.Errorf("%s, written in the sandbox, is on the host", f)
		}
	}
}
