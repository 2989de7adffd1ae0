package main

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/alecthomas/kong"

	"kmsd/internal/testkit"
)

// TestCLIDoc: docs/cli.md and kmsd's command line agree. Every flag of
// kmsd serving is a row of the flags table, and every row is a flag; the
// offline commands' usage lines name exactly their flags.
func TestCLIDoc(t *testing.T) {
	cmds := testkit.Commands(t, &cli, kong.Vars{"version": "test"})
	doc := testkit.DocSection(t, "../../docs/cli.md", "## kmsd")
	var rows []string
	for _, line := range strings.Split(doc, "\n") {
		if m := regexp.MustCompile("^\\| `(--[a-z][a-z0-9-]*)` \\|").FindStringSubmatch(line); m != nil {
			rows = append(rows, m[1])
		}
	}
	serve := append(cmds["serve"], cmds[""]...)
	for _, f := range serve {
		if !slices.Contains(rows, f) {
			t.Errorf("kmsd %s is not in docs/cli.md's flags table", f)
		}
	}
	for _, f := range rows {
		if !slices.Contains(serve, f) {
			t.Errorf("docs/cli.md's flags table has %s, which kmsd lacks", f)
		}
	}
	for name, flags := range cmds {
		if name == "" || name == "serve" {
			continue
		}
		m := regexp.MustCompile(`(?m)^kmsd ` + name + ` .*$`).FindString(doc)
		if m == "" {
			t.Errorf("kmsd %s has no usage line in docs/cli.md", name)
			continue
		}
		slices.Sort(flags)
		if got := testkit.Flags(m); !slices.Equal(got, flags) {
			t.Errorf("docs/cli.md's usage of kmsd %s names %v; kmsd %s takes %v", name, got, name, flags)
		}
	}
}
