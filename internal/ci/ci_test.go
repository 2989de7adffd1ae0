package ci

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestSkipFailsInCI runs this test binary again with and without CI and
// checks that Skip skips in one and fails in the other.
func TestSkipFailsInCI(t *testing.T) {
	if os.Getenv("KMSD_CI_CHILD") == "1" {
		Skip(t, "the machine lacks a thing")
		return
	}
	for _, c := range []struct {
		ci   string
		fail bool
	}{{"", false}, {"true", true}} {
		cmd := exec.Command(os.Args[0], "-test.run", "^TestSkipFailsInCI$", "-test.v")
		cmd.Env = append(os.Environ(), "KMSD_CI_CHILD=1", "CI="+c.ci)
		out, err := cmd.CombinedOutput()
		if failed := err != nil; failed != c.fail || !strings.Contains(string(out), "the machine lacks a thing") {
			t.Errorf("CI=%q: failed %v, want %v:\n%s", c.ci, failed, c.fail, out)
		}
		if !c.fail && !strings.Contains(string(out), "--- SKIP") {
			t.Errorf("CI=%q: not skipped:\n%s", c.ci, out)
		}
	}
}
