package e2e

import (
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"kmsd/internal/testkit"
)

// TestCLI runs kmsctl's transcripts, testdata/*.txtar: each starts its
// own kmsd and runs kmsctl commands, checking their output and exit codes
// as the aws CLI's users would see them. They double as examples of the
// command line.
func TestCLI(t *testing.T) {
	t.Parallel()
	kmsd, kmsctl := testkit.Binaries(t)
	testscript.Run(t, testscript.Params{
		Dir:  "testdata",
		Cmds: testkit.ScriptCommands(kmsd, kmsctl),
		Setup: func(env *testscript.Env) error {
			env.Setenv("PATH", testkit.PathWith(testkit.BinDir(t), os.Getenv("PATH")))
			return nil
		},
		RequireUniqueNames: true,
	})
}
