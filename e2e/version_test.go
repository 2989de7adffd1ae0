package e2e

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"kmsd/internal/ci"
)

// TestOneVersion builds kmsd and kmsctl twice, with `make build` and with
// a plain `go build`, and checks that all four name the commit the
// checkout is at (Go's record of it, "-dirty" when the tree has changes),
// not a number kept by hand.
func TestOneVersion(t *testing.T) {
	t.Parallel()
	root, err := filepath.Abs("..") // the tests run in e2e/
	if err != nil {
		t.Fatal(err)
	}
	head, err := exec.Command("git", "-C", root, "rev-parse", "HEAD").Output()
	if err != nil {
		ci.Skipf(t, "not a git checkout (git rev-parse HEAD: %v)", err)
		return
	}
	want := regexp.MustCompile(`^(kmsd|kmsctl) ` + regexp.QuoteMeta(strings.TrimSpace(string(head))[:12]) + `(-dirty)?\n$`)
	made, plain := t.TempDir(), t.TempDir()
	for _, c := range [][]string{
		{"make", "-C", root, "build", "BIN=" + made},
		{"go", "build", "-buildvcs=auto", "-o", plain + "/", "./cmd/kmsd", "./cmd/kmsctl"},
	} {
		cmd := exec.Command(c[0], c[1:]...)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(c, " "), err, out)
		}
	}
	var got []string
	for _, dir := range []string{made, plain} {
		for _, bin := range []string{"kmsd", "kmsctl"} {
			out, err := exec.Command(filepath.Join(dir, bin), "--version").CombinedOutput()
			if err != nil {
				t.Fatalf("%s/%s --version: %v\n%s", dir, bin, err, out)
			}
			if !want.Match(out) {
				t.Errorf("%s/%s --version = %q, want %s", dir, bin, out, want)
			}
			// "-dirty" follows the working tree, which other tests may
			// change meanwhile (a file planted and removed); the commit
			// is what must agree.
			_, v, _ := strings.Cut(strings.TrimSpace(string(out)), " ")
			got = append(got, strings.TrimSuffix(v, "-dirty"))
		}
	}
	for _, v := range got[1:] {
		if v != got[0] {
			t.Errorf("versions differ: %q", got)
			break
		}
	}
}
