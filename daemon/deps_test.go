package daemon_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencyArrows enforces the package graph the README describes:
// cmd -> daemon -> {keystore, wire}; the API vocabulary imports none of
// kmsd's packages and the protocol only it; the key service knows the
// vocabulary but neither the codec nor the audit trail; the store's users
// never see Badger; the FUSE view reaches kmsd through an interface.
func TestDependencyArrows(t *testing.T) {
	all := []string{"kmsd/daemon", "kmsd/keystore", "kmsd/cmd", "kmsd/fusefs", "kmsd/wire"}
	rules := map[string][]string{
		"kmsd/wire/api":    all,
		"kmsd/wire":        {"kmsd/daemon", "kmsd/keystore", "kmsd/cmd", "kmsd/fusefs", "kmsd/wire/client"},
		"kmsd/wire/client": {"kmsd/daemon", "kmsd/keystore", "kmsd/cmd", "kmsd/fusefs"},
		"kmsd/keystore":    {"kmsd/daemon", "kmsd/wire", "kmsd/cmd", "kmsd/fusefs", "github.com/dgraph-io/badger"},
		"kmsd/daemon/kms": {"kmsd/daemon\n", "kmsd/daemon/audit", "kmsd/wire\n", "kmsd/wire/client", "kmsd/cmd", "kmsd/fusefs",
			"github.com/dgraph-io/badger", "github.com/vmihailenco/msgpack"},
		// kmsctl reads the audit trail's files itself, and nothing else of kmsd's.
		"kmsd/cmd/kmsctl": {"kmsd/daemon\n", "kmsd/daemon/kms", "kmsd/daemon/policy", "kmsd/daemon/identity", "kmsd/keystore", "github.com/dgraph-io/badger"},
		// the FUSE view reaches kmsd only through its Service interface.
		"kmsd/fusefs":       {"kmsd/daemon", "kmsd/keystore", "kmsd/cmd", "github.com/dgraph-io/badger"},
		"kmsd/daemon/audit": {"kmsd/daemon/kms", "kmsd/keystore", "kmsd/wire", "github.com/dgraph-io/badger"},
		// the AWS endpoint reaches the request path only through its
		// Pipeline interface, and speaks JSON, not the socket's codec.
		// the host operations know the key service, the trail and the state
		// directory (the root key's files), not the server that serves them.
		"kmsd/daemon/hostops": {"kmsd/daemon\n", "kmsd/wire\n", "kmsd/wire/client", "kmsd/cmd", "kmsd/fusefs"},
		"kmsd/daemon/awsapi":  {"kmsd/daemon\n", "kmsd/wire\n", "kmsd/wire/client", "kmsd/cmd", "kmsd/fusefs", "github.com/dgraph-io/badger"},
		// the request path knows the service, the trail and the vocabulary:
		// no front end (nor the codec), and no composition above it.
		"kmsd/daemon/pipeline": {"kmsd/daemon\n", "kmsd/daemon/socket", "kmsd/daemon/awsapi", "kmsd/daemon/hostops", "kmsd/wire\n",
			"kmsd/wire/client", "kmsd/cmd", "kmsd/fusefs", "github.com/dgraph-io/badger", "github.com/prometheus"},
		// the socket decodes and encodes, and calls the pipeline: it knows no
		// other front end and not the composition.
		"kmsd/daemon/socket": {"kmsd/daemon\n", "kmsd/daemon/awsapi", "kmsd/daemon/hostops", "kmsd/wire/client", "kmsd/cmd",
			"kmsd/fusefs", "github.com/dgraph-io/badger", "github.com/prometheus"},
	}
	for pkg, banned := range rules {
		out, err := exec.Command("go", "list", "-deps", pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list %s: %v\n%s", pkg, err, out)
		}
		deps := strings.ReplaceAll(string(out), pkg+"\n", "") // the package itself
		for _, b := range banned {
			if strings.Contains(deps, b) {
				t.Errorf("%s depends on %s", pkg, strings.TrimSpace(b))
			}
		}
	}
}
