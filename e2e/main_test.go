// Package e2e holds kmsd's end-to-end tests: the real kmsd and kmsctl
// binaries (built by internal/testkit), driven as a user and a host drive
// them: kmsctl transcripts (testdata/*.txtar), kill -9 and SIGTERM,
// systemd's socket activation, the FUSE view and the README's examples,
// several users on one host.
package e2e

import (
	"os"
	"testing"

	"kmsd/internal/testkit"
)

func TestMain(m *testing.M) { os.Exit(testkit.Main(m)) }
