package daemon_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencyArrows enforces the package graph of DESIGN.md:
// cmd -> daemon -> {keystore, wire}; wire imports none of kmsd's packages;
// keystore imports neither daemon nor wire; the service does not import
// the socket server.
func TestDependencyArrows(t *testing.T) {
	rules := map[string][]string{
		"kmsd/wire":       {"kmsd/daemon", "kmsd/keystore", "kmsd/cmd", "kmsd/fusefs"},
		"kmsd/keystore":   {"kmsd/daemon", "kmsd/wire", "kmsd/cmd", "kmsd/fusefs"},
		"kmsd/daemon/kms": {"kmsd/daemon\n", "kmsd/cmd", "kmsd/fusefs"},
		// kmsctl reads the audit trail's files itself, and nothing else of kmsd's.
		"kmsd/cmd/kmsctl": {"kmsd/daemon\n", "kmsd/daemon/kms", "kmsd/daemon/policy", "kmsd/daemon/identity", "kmsd/keystore", "github.com/dgraph-io/badger"},
		// the FUSE view reaches kmsd only through its Service interface.
		"kmsd/fusefs":       {"kmsd/daemon", "kmsd/keystore", "kmsd/cmd", "github.com/dgraph-io/badger"},
		"kmsd/daemon/audit": {"kmsd/daemon/kms", "kmsd/keystore", "kmsd/wire", "github.com/dgraph-io/badger"},
	}
	for pkg, banned := range rules {
		out, err := exec.Command("go", "list", "-deps", pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list %s: %v\n%s", pkg, err, out)
		}
		deps := string(out)
		for _, b := range banned {
			if strings.Contains(deps, b) {
				t.Errorf("%s depends on %s", pkg, strings.TrimSpace(b))
			}
		}
	}
}
