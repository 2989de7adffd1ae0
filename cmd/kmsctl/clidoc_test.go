package main

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"kmsd/internal/testkit"
)

// TestCLIDoc: docs/cli.md and kmsctl's command line agree. Every command
// kmsctl has is a row of the commands table, with each of its flags;
// every global flag is in the global flags table; and the document names
// no command or flag that kmsctl lacks.
func TestCLIDoc(t *testing.T) {
	cmds := testkit.Commands(t, &cli{})
	doc := testkit.DocSection(t, "../../docs/cli.md", "## kmsctl")
	documented := map[string][]string{} // command -> the flags its row names
	var global []string
	cell := regexp.MustCompile("`([a-z][a-z -]*[a-z])`")
	for _, line := range strings.Split(doc, "\n") {
		cells := strings.Split(line, " | ")
		if !strings.HasPrefix(line, "| `") || len(cells) < 2 {
			continue
		}
		if strings.HasPrefix(line, "| `--") {
			global = append(global, testkit.Flags(cells[0])...)
			continue
		}
		flags := testkit.Flags(strings.Join(cells[1:], " | "))
		if strings.Contains(cells[1], "pagination") {
			flags = append(flags, "--max-items", "--starting-token", "--page-size", "--limit", "--marker")
		}
		for _, m := range cell.FindAllStringSubmatch(cells[0], -1) {
			documented[m[1]] = flags
		}
	}
	if len(documented) < 40 {
		t.Fatalf("read %d commands from docs/cli.md: the table's form changed", len(documented))
	}
	for _, f := range cmds[""] {
		if !slices.Contains(global, f) {
			t.Errorf("kmsctl's global flag %s is not in docs/cli.md's table", f)
		}
	}
	for _, f := range global {
		if !slices.Contains(cmds[""], f) {
			t.Errorf("docs/cli.md names the global flag %s, which kmsctl lacks", f)
		}
	}
	for name, flags := range cmds {
		if name == "" || isGroup(cmds, name) {
			continue
		}
		row, ok := documented[name]
		if !ok {
			t.Errorf("kmsctl %s is not in docs/cli.md", name)
			continue
		}
		for _, f := range flags {
			if !slices.Contains(row, f) {
				t.Errorf("kmsctl %s %s is not in its row of docs/cli.md", name, f)
			}
		}
	}
	for name, row := range documented {
		flags, ok := cmds[name]
		if !ok {
			t.Errorf("docs/cli.md documents kmsctl %s, which does not exist", name)
			continue
		}
		for _, f := range row {
			if !slices.Contains(flags, f) && !slices.Contains(cmds[""], f) {
				t.Errorf("docs/cli.md gives kmsctl %s the flag %s, which it lacks", name, f)
			}
		}
	}
}

// isGroup says whether name only groups other commands (audit).
func isGroup(cmds map[string][]string, name string) bool {
	for c := range cmds {
		if strings.HasPrefix(c, name+" ") {
			return true
		}
	}
	return false
}

// TestHelpRunsNothing: --help on any command prints its usage and exits 0
// without running it (it used to go on and dial kmsd).
func TestHelpRunsNothing(t *testing.T) {
	for name := range testkit.Commands(t, &cli{}) {
		args := append([]string{"--socket", t.TempDir() + "/none.sock"}, strings.Fields(name)...)
		var out, errs strings.Builder
		if code := run(append(args, "--help"), &out, &errs); code != 0 || errs.Len() != 0 || !strings.Contains(out.String(), "Usage: kmsctl "+name) {
			t.Errorf("kmsctl %s --help: exit %d\n%s--- stderr:\n%s", name, code, out.String(), errs.String())
		}
	}
}
