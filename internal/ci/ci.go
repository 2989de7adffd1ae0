// Package ci decides what a test does when the machine lacks something
// it needs (root, FUSE, cgroups, a tool): it skips, except in CI, where
// it fails, so that a green CI means every test ran.
//
// CI is the environment variable CI, set (to anything but "") by the CI
// runner and by .ci/run; `CI=1 make test` runs the suite as CI does.
package ci

import (
	"os"
	"testing"
)

// Set reports whether the tests run in CI.
func Set() bool { return os.Getenv("CI") != "" }

// Skip skips t because the machine lacks what it needs, said by why; in
// CI it fails t instead.
func Skip(t testing.TB, why string) {
	t.Helper()
	if Set() {
		t.Fatalf("%s; CI is set, and in CI every test must run (.ci/run installs what the tests need)", why)
	}
	t.Skip(why)
}

// Skipf is Skip with a format.
func Skipf(t testing.TB, format string, args ...any) {
	t.Helper()
	if Set() {
		t.Fatalf(format+"; CI is set, and in CI every test must run (.ci/run installs what the tests need)", args...)
	}
	t.Skipf(format, args...)
}
