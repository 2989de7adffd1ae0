package testkit

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/alecthomas/kong"
)

// Commands lists the commands of a kong command line by their path
// ("audit verify"), each with the long names of its own flags ("--key-id");
// "" holds the application's flags, which every command takes. Hidden
// commands and flags and --help are left out: they are not a
// command line's contract.
func Commands(t testing.TB, grammar any, opts ...kong.Option) map[string][]string {
	t.Helper()
	p, err := kong.New(grammar, append(opts, kong.Exit(func(int) {}))...)
	if err != nil {
		t.Fatal(err)
	}
	cmds := map[string][]string{}
	var walk func(n *kong.Node, path string)
	walk = func(n *kong.Node, path string) {
		if n.Hidden {
			return
		}
		var flags []string
		for _, f := range n.Flags {
			if !f.Hidden && f.Name != "help" {
				flags = append(flags, "--"+f.Name)
			}
		}
		cmds[path] = flags
		for _, c := range n.Children {
			if c.Type == kong.CommandNode {
				walk(c, strings.TrimSpace(path+" "+c.Name))
			}
		}
	}
	walk(p.Model.Node, "")
	return cmds
}

// DocSection is the text of a Markdown file from the heading named
// start to the next heading of the same level or higher.
func DocSection(t testing.TB, path, start string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i := strings.Index(s, "\n"+start+"\n")
	if i < 0 {
		t.Fatalf("%s has no heading %q", path, start)
	}
	s = s[i+len(start)+2:]
	level := strings.Repeat("#", strings.Index(start, " ")) + " "
	for _, l := range strings.SplitAfter(s, "\n") {
		if strings.HasPrefix(l, "#") && strings.HasPrefix(level, strings.SplitAfter(l, " ")[0]) {
			return s[:strings.Index(s, "\n"+l)+1]
		}
	}
	return s
}

// Flags are the distinct long flags (--name) that text names.
func Flags(text string) []string {
	fs := regexp.MustCompile(`--[a-z][a-z0-9-]*`).FindAllString(text, -1)
	slices.Sort(fs)
	return slices.Compact(fs)
}
