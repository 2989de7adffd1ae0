package e2e

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"kmsd/internal/ci"
	"kmsd/internal/testkit"
	"kmsd/wire/api"
)

// TestBatchesFromTheShell: 20,000 lines through kmsctl --batch-input come
// back as 20,000 results in the order of the lines (each decrypts to its
// own line's plaintext), through batch frames (kmsd counts a few batch
// requests, not 20,000 calls); with standard error on a terminal and the
// results in a file, kmsctl shows its progress there.
func TestBatchesFromTheShell(t *testing.T) {
	t.Parallel()
	d := testkit.Start(t, testkit.Config{})
	key := strings.TrimSpace(d.OK(t, "create-key", "--query", "KeyMetadata.KeyId", "--output", "text"))
	dir := t.TempDir()
	const n = 20_000
	in := filepath.Join(dir, "in.jsonl")
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `{"Plaintext":%q}`+"\n", base64.StdEncoding.EncodeToString(fmt.Appendf(nil, "line %d", i)))
	}
	if err := os.WriteFile(in, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	before := status(t, d)
	_, kmsctl := testkit.Binaries(t)
	blobs := filepath.Join(dir, "blobs.jsonl")
	cmd := exec.Command(kmsctl, "encrypt", "--key-id", key, "--batch-input", in)
	cmd.Env = append(os.Environ(), "KMSD_SOCKET="+d.Sock)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("kmsctl encrypt --batch-input: %v", err)
	}
	if err := os.WriteFile(blobs, out, 0o600); err != nil {
		t.Fatal(err)
	}
	after := status(t, d)
	if got := after.BatchRequests - before.BatchRequests; got < 1 || got > n/256 {
		t.Errorf("%d lines took %d batch requests", n, got)
	}
	// decrypt them back, on a terminal (script(1) gives one), results to a file
	plain := filepath.Join(dir, "plain.jsonl")
	var progress string
	if _, err := exec.LookPath("script"); err != nil {
		ci.Skip(t, "no script(1) (util-linux) to give kmsctl a terminal")
		cmd := exec.Command(kmsctl, "decrypt", "--batch-input", blobs, "--query", "Plaintext", "--output", "text")
		cmd.Env = append(os.Environ(), "KMSD_SOCKET="+d.Sock)
		o, err := cmd.Output()
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(plain, o, 0o600)
	} else {
		cmd := exec.Command("script", "-qec", fmt.Sprintf("%s decrypt --batch-input %s --query Plaintext --output text > %s", kmsctl, blobs, plain), "/dev/null")
		cmd.Env = append(os.Environ(), "KMSD_SOCKET="+d.Sock)
		o, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("kmsctl decrypt --batch-input on a terminal: %v\n%s", err, o)
		}
		progress = string(o)
		if !strings.Contains(progress, fmt.Sprintf("\rkmsctl: %d items, 0 failed, ", n)) {
			t.Errorf("no progress on the terminal: %q", progress)
		}
	}
	f, err := os.Open(plain)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	i := 0
	for ; sc.Scan(); i++ {
		p, err := base64.StdEncoding.DecodeString(sc.Text())
		if err != nil || string(p) != fmt.Sprintf("line %d", i) {
			var e map[string]any
			json.Unmarshal(sc.Bytes(), &e)
			t.Fatalf("result %d is %q (%v), want line %d's", i, sc.Text(), e, i)
		}
	}
	if i != n {
		t.Fatalf("%d results for %d lines", i, n)
	}
}

// status is kmsd's Status answer.
func status(t *testing.T, d *testkit.Daemon) *api.StatusOutput {
	t.Helper()
	st, err := d.Dial(t).Status(context.Background(), &api.StatusInput{})
	if err != nil {
		t.Fatal(err)
	}
	return st
}
