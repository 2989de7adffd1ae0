package testkit

import (
	"os"
	"strings"
	"testing"
)

// The sandbox's systemd runs units, and what happens in it stays there.
func TestSandbox(t *testing.T) {
	s := BootSystemd(t)
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
