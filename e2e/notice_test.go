package e2e

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestNoticeListsEveryModule checks that NOTICE names every module that
// is compiled into kmsd and kmsctl, and that each module it reproduces a
// NOTICE file of still ships one: a dependency added or dropped without
// NOTICE changing fails here.
func TestNoticeListsEveryModule(t *testing.T) {
	t.Parallel()
	notice, err := os.ReadFile("../NOTICE")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat("../LICENSE"); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("go", "list", "-deps", "-f", "{{with .Module}}{{.Path}} {{.Dir}}{{end}}", "../cmd/kmsd", "../cmd/kmsctl").Output()
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, line := range strings.Split(string(notice), "\n") {
		if f := strings.Fields(line); len(f) > 1 && strings.Contains(f[0], ".") && strings.Contains(f[0], "/") {
			listed[f[0]] = true
		}
	}
	built := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		path, dir, _ := strings.Cut(line, " ")
		if path == "kmsd" || built[path] {
			continue
		}
		built[path] = true
		if !listed[path] {
			t.Errorf("NOTICE does not list %s, which the binaries are built with", path)
		}
		_, err := os.Stat(dir + "/NOTICE")
		if err != nil {
			_, err = os.Stat(dir + "/NOTICE.txt")
		}
		if has := strings.Contains(string(notice), "--- "+path+"\n"); has != (err == nil) {
			t.Errorf("%s: ships a NOTICE file: %v; NOTICE reproduces it: %v", path, err == nil, has)
		}
	}
	for path := range listed {
		if !built[path] {
			t.Errorf("NOTICE lists %s, which the binaries are not built with", path)
		}
	}
}
