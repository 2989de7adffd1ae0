package e2e

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"kmsd/internal/testkit"
)

// TestOperationsRunbook runs docs/operations.md as an operator would: every
// sh block, in order, in one bash session, as root, in a systemd sandbox
// (testkit.BootSystemd) where the units are really installed, enabled,
// stopped and restarted; each output shown is compared with what the
// commands print. The metrics the runbook names must be in a scrape.
func TestOperationsRunbook(t *testing.T) {
	t.Parallel()
	s := testkit.BootSystemd(t)
	s.TrackedOnly(t) // a fresh checkout: not what a walkthrough left in this one
	if skipped := runDoc(t, s, "../docs/operations.md"); len(skipped) != 0 {
		t.Errorf("the runbook has blocks not run: %q", skipped[0].skip)
	}

	// Hold a connection to kmsd (through the sandbox's root) while scraping,
	// so that the connection gauges are there.
	c := testkit.Dial(t, s.Path("/run/kmsd/api.sock"))
	defer c.Close()
	scrape := s.MustRun(t, "curl -sf http://127.0.0.1:9464/metrics")
	doc, _ := os.ReadFile("../docs/operations.md")
	names := regexp.MustCompile("`((?:kmsd|process)_[a-z_]+)").FindAllStringSubmatch(string(doc), -1)
	if len(names) < 10 {
		t.Fatalf("the runbook names %d metrics", len(names))
	}
	for _, n := range names {
		served := strings.Contains(scrape, "\n# TYPE "+n[1]+" ")
		switch {
		case n[1] == "kmsd_connections" && served: // by uid: the Unix listener's only
			t.Errorf("the TCP listener, which any local user reads, serves %s (connections by uid)", n[1])
		case n[1] != "kmsd_connections" && !served:
			t.Errorf("the runbook names %s, which kmsd does not serve", n[1])
		}
	}
}
