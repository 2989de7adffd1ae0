package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"kmsd/internal/softhsm"
	"kmsd/internal/testkit"
)

// The documents' commands are tests. Every fenced sh block of README.md
// and docs/*.md is run, in order, in one bash session per document, as
// root, from a fresh checkout (an overlay of this one) inside a systemd
// sandbox (testkit.BootSystemd), with nothing set up but what the
// document sets up itself; where a text block follows, the output must
// match it, "…" standing for what differs from run to run. A block that
// cannot run here says so on its first line, visibly:
//
//	# not run by make test: WHY
//
// and every fence names its language, so that no command hides in an
// unlabelled one.

// notRun is the first line of a block the tests do not run.
const notRun = "# not run by make test: "

// step is a command block of a document and, if the document shows it,
// its output.
type step struct {
	script, want string
	hasWant      bool
	skip         string // why it is not run, if it is not
}

// docSteps returns the sh blocks of a Markdown file, each with the text
// block that follows it, if one does.
func docSteps(t *testing.T, path string) []step {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile("(?s)```sh\n(.*?)```(?:\\s*```text\n(.*?)```)?")
	var steps []step
	for _, m := range re.FindAllStringSubmatchIndex(string(b), -1) {
		st := step{script: string(b[m[2]:m[3]])}
		if m[4] >= 0 {
			st.want, st.hasWant = string(b[m[4]:m[5]]), true
		}
		if why, ok := strings.CutPrefix(st.script, notRun); ok {
			st.skip, _, _ = strings.Cut(why, "\n")
		}
		steps = append(steps, st)
	}
	if n := strings.Count(string(b), "```sh\n"); n != len(steps) {
		t.Fatalf("%s: %d sh blocks, %d understood", path, n, len(steps))
	}
	return steps
}

// matchOutput compares a step's output with the document's, line by line:
// "…" in the document's line stands for any text.
func matchOutput(got, want string) bool {
	gl, wl := strings.Split(got, "\n"), strings.Split(want, "\n")
	if len(gl) != len(wl) {
		return false
	}
	for i, w := range wl {
		parts := strings.Split(w, "…")
		for k := range parts {
			parts[k] = regexp.QuoteMeta(parts[k])
		}
		if !regexp.MustCompile("^" + strings.Join(parts, ".*") + "$").MatchString(gl[i]) {
			return false
		}
	}
	return true
}

// runDoc runs the document's blocks in the sandbox and compares their
// output with the document's; it returns the blocks not run.
func runDoc(t *testing.T, s *testkit.Sandbox, path string) (skipped []step) {
	steps := docSteps(t, path)
	var script strings.Builder
	var run []step
	for _, st := range steps {
		if st.skip != "" {
			skipped = append(skipped, st)
			continue
		}
		if regexp.MustCompile(`\bmake (test|bench)\b`).MatchString(st.script) {
			t.Fatalf("%s: a block runs make test or make bench, which the tests cannot run inside themselves; mark it:\n%s", path, st.script)
		}
		script.WriteString(st.script)
		fmt.Fprintf(&script, "\nprintf '\\n@@end %d@@\\n'; printf '\\n@@end %d@@\\n' >&2\n", len(run), len(run))
		run = append(run, st)
	}
	out, errs, err := s.Run(s.Repo, script.String())
	split := regexp.MustCompile(`\n@@end \d+@@\n`)
	outs := split.Split(out, -1)
	done := len(outs) - 1
	for i := 0; i < done; i++ {
		st := run[i]
		t.Logf("%s, block %d\n%s--- printed:\n%s", path, i+1, st.script, outs[i])
		if st.hasWant && !matchOutput(outs[i], st.want) {
			t.Errorf("%s, block %d printed\n%s\nthe document says\n%s\n--- the block:\n%s", path, i+1, outs[i], st.want, st.script)
		}
	}
	if err != nil || done != len(run) {
		failed := run[min(done, len(run)-1)]
		errParts := split.Split(errs, -1)
		journal, _, _ := s.Run("/", "journalctl -u kmsd.service -u kmsd.socket -n 40 --no-pager -o cat")
		t.Fatalf("%s, block %d of %d failed: %v\n%s\n--- its output:\n%s\n--- its stderr:\n%s\n--- kmsd's journal:\n%s",
			path, done+1, len(run), err, failed.script, outs[done], errParts[len(errParts)-1], journal)
	}
	return skipped
}

// documents are the Markdown files whose commands are tests.
func documents(t *testing.T) []string {
	docs, err := filepath.Glob("../docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	return append([]string{"../README.md"}, docs...)
}

// TestDocs runs every document's commands (docs/operations.md has a test
// of its own, which also scrapes the metrics it names).
func TestDocs(t *testing.T) {
	t.Parallel()
	for _, path := range documents(t) {
		if filepath.Base(path) == "operations.md" || len(docSteps(t, path)) == 0 {
			continue
		}
		t.Run(filepath.Base(path), func(t *testing.T) {
			t.Parallel() // each in a systemd sandbox of its own
			b, _ := os.ReadFile(path)
			if regexp.MustCompile("(?m)^aws ").Match(b) {
				testkit.RequireAWSCLI(t) // the document runs the aws CLI
			}
			if regexp.MustCompile("(?m)^softhsm2-util ").Match(b) {
				softhsm.Require(t) // the document makes a SoftHSM2 token
			}
			s := testkit.BootSystemd(t)
			s.TrackedOnly(t) // a fresh checkout: not what a walkthrough left in this one
			for _, st := range runDoc(t, s, path) {
				t.Logf("not run: %s", st.skip)
			}
		})
	}
}

// TestDocFencesAreLabelled: every fence says what it holds, so that a
// command cannot sit in a block the tests do not see.
func TestDocFencesAreLabelled(t *testing.T) {
	t.Parallel()
	known := map[string]bool{"sh": true, "text": true, "json": true, "go": true, "ini": true, "yaml": true}
	for _, path := range documents(t) {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		open := false
		for i, line := range strings.Split(string(b), "\n") {
			lang, ok := strings.CutPrefix(line, "```")
			if !ok {
				continue
			}
			if !open && !known[lang] {
				t.Errorf("%s:%d: a fence without a known language (%q): sh for commands, text for output", path, i+1, lang)
			}
			open = !open
		}
	}
}
