package testkit

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// The sandbox's systemd runs units, and what happens in it stays there;
// TrackedOnly leaves the sandbox the checkout's tracked files alone.
func TestSandbox(t *testing.T) {
	repo, err := moduleDir()
	if err != nil {
		t.Fatal(err)
	}
	// what a walkthrough followed in the checkout leaves: an untracked
	// file and an ignored one
	left := []string{fmt.Sprintf("%s/kmsd-sandbox-left-%d", repo, os.Getpid()), fmt.Sprintf("%s/kmsd-sandbox-left-%d.prof", repo, os.Getpid())}
	for _, f := range left {
		if err := os.WriteFile(f, []byte("left behind\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		defer os.Remove(f)
	}
	s := BootSystemd(t)
	seen := s.MustRun(t, "ls -a")
	s.TrackedOnly(t)
	after := s.MustRun(t, "ls -a; git status --porcelain --ignored | head -5")
	for _, f := range left {
		name := f[len(repo)+1:]
		if !strings.Contains(seen, name) {
			t.Fatalf("the sandbox did not see %s before TrackedOnly: %q", name, seen)
		}
		if strings.Contains(after, name) {
			t.Errorf("after TrackedOnly the sandbox still sees %s:\n%s", name, after)
		}
		if _, err := os.Stat(f); err != nil {
			t.Errorf("TrackedOnly reached the host's checkout: %v", err)
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
