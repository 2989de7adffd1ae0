package testkit

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

// binDir holds the binaries Main's package builds; "" outside Main.
var (
	binDir    string
	buildOnce sync.Once
	buildErr  error
)

// Main runs a package's tests with a directory for the binaries
// [Binaries] builds on first use, and removes it afterwards. A package
// whose tests run kmsd or kmsctl as programs calls it from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(testkit.Main(m)) }
func Main(m *testing.M) int {
	dir, err := os.MkdirTemp("", "kmsd-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	binDir = dir
	// The race detector's reports fail the binary, and its exit delay
	// would slow every stop.
	os.Setenv("GORACE", "atexit_sleep_ms=0 halt_on_error=1")
	code := m.Run()
	os.RemoveAll(dir)
	return code
}

// Binaries returns the paths of kmsd and kmsctl, built from this module
// once per test binary: kmsd with the race detector when the tests run
// with it (it is what the end-to-end tests exercise), kmsctl without, as
// it starts once per command.
func Binaries(t testing.TB) (kmsd, kmsctl string) {
	t.Helper()
	if binDir == "" {
		t.Fatal("testkit: call testkit.Main from TestMain to build binaries")
	}
	buildOnce.Do(func() {
		kmsdFlags := []string{"build", "-o", binDir + "/"}
		if raceEnabled {
			kmsdFlags = append(kmsdFlags, "-race")
		}
		for _, args := range [][]string{append(kmsdFlags, "./cmd/kmsd"), {"build", "-o", binDir + "/", "./cmd/kmsctl"}} {
			cmd := exec.Command("go", args...)
			cmd.Dir = moduleRoot() // kmsd's own module, also from a test module of its own (e2e/awssdk)
			if out, err := cmd.CombinedOutput(); err != nil {
				buildErr = fmt.Errorf("go %v: %v\n%s", args, err, out)
				return
			}
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return filepath.Join(binDir, "kmsd"), filepath.Join(binDir, "kmsctl")
}

// BinDir is the directory of the built binaries, for a PATH.
func BinDir(t testing.TB) string {
	kmsd, _ := Binaries(t)
	return filepath.Dir(kmsd)
}

// moduleRoot is the root of kmsd's source tree: two levels above this
// file.
func moduleRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(filepath.Dir(filepath.Dir(file)))
}
