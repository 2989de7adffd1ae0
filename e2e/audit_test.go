package e2e

import (
	"encoding/json"
	"kmsd/internal/testkit"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestAuditTrailEndToEnd(t *testing.T) {
	t.Parallel()
	dir := testkit.ShortDir(t)
	d := testkit.Start(t, testkit.Config{Dir: dir})
	key := strings.TrimSpace(d.OK(t, "create-key", "--query", "KeyMetadata.KeyId", "--output", "text"))
	for range 3 {
		d.OK(t, "encrypt", "--key-id", key, "--plaintext", "c2VjcmV0", "--encryption-context", "app=e2e")
	}
	d.Kmsctl(t, "encrypt", "--key-id", "alias/nope", "--plaintext", "eA==")
	// audit verify has kmsd seal the records so far under a checkpoint:
	// no waiting for the periodic one.

	var v struct {
		Status                string
		Records, Checkpoints  int
		CheckpointMACsChecked bool
	}
	json.Unmarshal([]byte(d.OK(t, "audit", "verify")), &v)
	if v.Status != "OK" || !v.CheckpointMACsChecked || v.Checkpoints == 0 || v.Records < 8 {
		t.Fatalf("verify: %+v", v)
	}
	lines := strings.Split(strings.TrimSpace(d.OK(t, "audit", "query", "--operation", "Encrypt", "--result", "success")), "\n")
	if len(lines) != 3 || !strings.Contains(lines[0], `"context":{"app":"e2e"}`) || strings.Contains(lines[0], "c2VjcmV0") {
		t.Fatalf("query: %q", lines)
	}
	if out := d.OK(t, "audit", "query", "--result", "NotFoundException", "--audit-dir", filepath.Join(d.State, "audit")); strings.Count(out, "\n") != 1 {
		t.Fatalf("query errors: %q", out)
	}
	if op := d.OK(t, "get-key-last-usage", "--key-id", key, "--query", "KeyLastUsage.Operation", "--output", "text"); op != "Encrypt\n" {
		t.Fatalf("last usage %q", op)
	}
	var u struct {
		Usage []struct {
			KeyId    string
			Requests int64
		}
	}
	json.Unmarshal([]byte(d.OK(t, "usage", "--window-minutes", "10")), &u)
	found := false
	for _, row := range u.Usage {
		found = found || (row.KeyId == key && row.Requests >= 3)
	}
	if !found {
		t.Fatalf("usage %+v", u)
	}

	// Change one byte of a record while kmsd is stopped: verify reports it.
	d.Signal(syscall.SIGTERM)
	if err := d.Wait(20 * time.Second); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(d.State, "audit", "audit-*.jsonl"))
	b, _ := os.ReadFile(files[0])
	i := strings.Index(string(b), `"app":"e2e"`)
	b[i+8] = 'X'
	os.WriteFile(files[0], b, 0o600)
	d2 := testkit.Start(t, testkit.Config{Dir: dir})
	out, errs, code := d2.Kmsctl(t, "audit", "verify")
	if code != 1 || !strings.Contains(out, `"Status": "BROKEN"`) || !strings.Contains(errs, "broken") {
		t.Fatalf("tampered trail: exit %d\n%s\n%s", code, out, errs)
	}
}

// TestVerifyTellsTheTruth: a trail cut short while kmsd was stopped is
// reported (GAP, exit 1) for good, after kmsd has written newer
// checkpoints too; so is a trail whose files were all removed; and a copy
// of the trail taken while kmsd runs verifies OK, not as cut.
func TestVerifyTellsTheTruth(t *testing.T) {
	t.Parallel()
	dir := testkit.ShortDir(t)
	d := testkit.Start(t, testkit.Config{Dir: dir})
	key := strings.TrimSpace(d.OK(t, "create-key", "--query", "KeyMetadata.KeyId", "--output", "text"))
	for range 5 {
		d.OK(t, "encrypt", "--key-id", key, "--plaintext", "eA==")
	}
	audit := filepath.Join(d.State, "audit")
	// A copy while kmsd runs, which then writes more.
	cp := filepath.Join(dir, "copy")
	os.Mkdir(cp, 0o700)
	d.OK(t, "audit", "verify") // sealed under a checkpoint
	files, _ := filepath.Glob(filepath.Join(audit, "audit-*.jsonl"))
	for _, f := range files {
		b, _ := os.ReadFile(f)
		os.WriteFile(filepath.Join(cp, filepath.Base(f)), b, 0o600)
	}
	d.OK(t, "encrypt", "--key-id", key, "--plaintext", "eA==")
	d.OK(t, "audit", "verify")
	if out := d.OK(t, "audit", "verify", "--audit-dir", cp); !strings.Contains(out, `"Status": "OK"`) || !strings.Contains(out, "KmsdHeadSeq") {
		t.Fatalf("a copy taken while kmsd runs: %s", out)
	}
	stop := func(d *testkit.Daemon) {
		d.Signal(syscall.SIGTERM)
		if err := d.Wait(20 * time.Second); err != nil {
			t.Fatal(err)
		}
	}
	// Cut the tail while kmsd is stopped.
	stop(d)
	files, _ = filepath.Glob(filepath.Join(audit, "audit-*.jsonl"))
	last := files[len(files)-1]
	b, _ := os.ReadFile(last)
	lines := strings.SplitAfter(string(b), "\n")
	os.WriteFile(last, []byte(strings.Join(lines[:len(lines)/2], "")), 0o600)
	d = testkit.Start(t, testkit.Config{Dir: dir})
	for range 3 {
		d.OK(t, "encrypt", "--key-id", key, "--plaintext", "eA==")
		d.Kmsctl(t, "audit", "verify") // newer checkpoints
	}
	out, errs, code := d.Kmsctl(t, "audit", "verify")
	if code != 1 || !strings.Contains(out, `"Status": "GAP"`) || !strings.Contains(out, "removed while kmsd was stopped") {
		t.Fatalf("a trail cut while kmsd was stopped: exit %d\n%s\n%s", code, out, errs)
	}
	// Remove every file while kmsd is stopped.
	stop(d)
	files, _ = filepath.Glob(filepath.Join(audit, "audit-*.jsonl"))
	for _, f := range files {
		os.Remove(f)
	}
	d = testkit.Start(t, testkit.Config{Dir: dir})
	d.OK(t, "encrypt", "--key-id", key, "--plaintext", "eA==")
	out, errs, code = d.Kmsctl(t, "audit", "verify")
	if code != 1 || !strings.Contains(out, "BROKEN") || !strings.Contains(out, "are missing") || !strings.Contains(out, "files were removed") {
		t.Fatalf("a trail whose files were removed: exit %d\n%s\n%s", code, out, errs)
	}
}
