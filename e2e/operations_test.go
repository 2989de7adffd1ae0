package e2e

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"kmsd/internal/testkit"
)

// step is a command block of a runbook and, if the runbook shows it, its
// output.
type step struct {
	script, want string
	hasWant      bool
}

// runbookSteps returns the sh blocks of a Markdown file, each with the text
// block that follows it, if one does.
func runbookSteps(t *testing.T, path string) []step {
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
		steps = append(steps, st)
	}
	if n := strings.Count(string(b), "```sh"); n != len(steps) || n == 0 {
		t.Fatalf("%s: %d sh blocks, %d understood", path, n, len(steps))
	}
	return steps
}

// matchOutput compares a step's output with the runbook's, line by line:
// "…" in the runbook's line stands for any text.
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

// TestOperationsRunbook runs docs/operations.md as an operator would: every
// sh block, in order, in one bash session, as root, in a systemd sandbox
// (testkit.BootSystemd) where the units are really installed, enabled,
// stopped and restarted; each output shown is compared with what the
// commands print. The metrics the runbook names must be in a scrape.
func TestOperationsRunbook(t *testing.T) {
	s := testkit.BootSystemd(t)
	steps := runbookSteps(t, "../docs/operations.md")
	var script strings.Builder
	for i, st := range steps {
		script.WriteString(st.script)
		fmt.Fprintf(&script, "\nprintf '@@end %d@@\\n'; printf '@@end %d@@\\n' >&2\n", i, i)
	}
	out, errs, err := s.Run(s.Repo, script.String())
	outs := regexp.MustCompile(`@@end (\d+)@@\n`).Split(out, -1)
	done := len(outs) - 1
	for i := 0; i < done; i++ {
		st := steps[i]
		t.Logf("step %d\n%s--- printed:\n%s", i+1, st.script, outs[i])
		if st.hasWant && !matchOutput(outs[i], st.want) {
			t.Errorf("runbook step %d printed\n%s\nthe runbook says\n%s\n--- step:\n%s", i+1, outs[i], st.want, st.script)
		}
	}
	if err != nil || done != len(steps) {
		failed := steps[min(done, len(steps)-1)]
		errParts := regexp.MustCompile(`@@end \d+@@\n`).Split(errs, -1)
		journal, _, _ := s.Run("/", "journalctl -u kmsd.service -u kmsd.socket -n 40 --no-pager -o cat")
		t.Fatalf("runbook step %d of %d failed: %v\n%s\n--- its output:\n%s\n--- its stderr:\n%s\n--- kmsd's journal:\n%s",
			done+1, len(steps), err, failed.script, outs[done], errParts[len(errParts)-1], journal)
	}

	// Hold a connection to kmsd (through the sandbox's root) while scraping,
	// so that the per-uid connection gauge is there.
	c := testkit.Dial(t, s.Path("/run/kmsd/api.sock"))
	defer c.Close()
	scrape := s.MustRun(t, "curl -sf http://127.0.0.1:9464/metrics")
	doc, _ := os.ReadFile("../docs/operations.md")
	names := regexp.MustCompile("`((?:kmsd|process)_[a-z_]+)").FindAllStringSubmatch(string(doc), -1)
	if len(names) < 10 {
		t.Fatalf("the runbook names %d metrics", len(names))
	}
	for _, n := range names {
		if !strings.Contains(scrape, "\n# TYPE "+n[1]+" ") {
			t.Errorf("the runbook names %s, which kmsd does not serve", n[1])
		}
	}
}
