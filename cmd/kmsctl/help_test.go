package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/alecthomas/kong"
)

// TestEveryFlagDescribed: every flag of every command says what it is
// for, and a command's --help lists its own flags before the global
// options, as the aws CLI's help puts the command's options first.
func TestEveryFlagDescribed(t *testing.T) {
	parser, err := kong.New(&cli{}, kong.Name("kmsctl"), kong.Exit(func(int) {}))
	if err != nil {
		t.Fatal(err)
	}
	var commands [][]string
	var walk func(n *kong.Node, path []string)
	walk = func(n *kong.Node, path []string) {
		for _, f := range n.Flags {
			if strings.TrimSpace(f.Help) == "" {
				t.Errorf("kmsctl %s --%s has no description", strings.Join(path, " "), f.Name)
			}
		}
		for _, c := range n.Children {
			p := append(append([]string(nil), path...), c.Name)
			if len(c.Children) == 0 {
				commands = append(commands, p)
			}
			walk(c, p)
		}
	}
	walk(parser.Model.Node, nil)
	if len(commands) < 50 {
		t.Fatalf("found %d commands", len(commands))
	}
	for _, c := range commands {
		var stdout, stderr bytes.Buffer
		if code := run(append(c, "--help"), &stdout, &stderr); code != 0 {
			t.Fatalf("kmsctl %s --help: exit %d: %s", strings.Join(c, " "), code, stderr.String())
		}
		help := stdout.String()
		global := strings.Index(help, "Global options")
		own := strings.Index(help, "\n      --")
		if global < 0 {
			t.Errorf("kmsctl %s --help has no global options section", strings.Join(c, " "))
			continue
		}
		if own >= 0 && own > global {
			t.Errorf("kmsctl %s --help lists the global options before its own flags:\n%s", strings.Join(c, " "), help)
		}
		// the help word is --help
		var word bytes.Buffer
		if code := run(append(c, "help"), &word, &stderr); code != 0 || word.String() != help {
			t.Errorf("kmsctl %s help: exit %d, and not the same as --help", strings.Join(c, " "), code)
		}
	}
}
