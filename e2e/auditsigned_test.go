package e2e

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"kmsd/internal/testkit"
)

// offlineKmsctl runs kmsctl where no kmsd answers: what someone holding
// a copy of the trail and its public key on another machine runs.
func offlineKmsctl(t *testing.T, dir string, args ...string) (string, int) {
	t.Helper()
	_, kmsctl := testkit.Binaries(t)
	cmd := exec.Command(kmsctl, args...)
	cmd.Env = append(os.Environ(), "KMSD_SOCKET="+filepath.Join(dir, "no-kmsd-here.sock"))
	cmd.Dir = dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	if code != 0 {
		t.Logf("kmsctl %s: exit %d\n%s", strings.Join(args, " "), code, errb.String())
	}
	return out.String(), code
}

func stopDaemon(t *testing.T, d *testkit.Daemon) {
	t.Helper()
	d.Signal(syscall.SIGTERM)
	if err := d.Wait(20 * time.Second); err != nil {
		t.Fatal(err)
	}
}

func copyFiles(t *testing.T, glob, to string) {
	t.Helper()
	os.MkdirAll(to, 0o700)
	files, _ := filepath.Glob(glob)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(to, filepath.Base(f)), b, 0o600)
	}
}

// TestAuditVerifiableByAnyone: kmsd's trail copied to another directory
// is checked with the public key alone (kmsd stopped, no root key); a
// proof from it is checked by verify-proof; and a history written again
// and signed with kmsd's own key passes on the key alone but not against
// the checkpoints kmsd exported.
func TestAuditVerifiableByAnyone(t *testing.T) {
	t.Parallel()
	dir := testkit.ShortDir(t)
	export := filepath.Join(dir, "export")
	os.Mkdir(export, 0o700)
	args := []string{"--audit-checkpoint-export", export}
	d := testkit.Start(t, testkit.Config{Dir: dir, Args: args})
	key := strings.TrimSpace(d.OK(t, "create-key", "--query", "KeyMetadata.KeyId", "--output", "text"))
	d.OK(t, "encrypt", "--key-id", key, "--plaintext", "aGk=")
	pub := filepath.Join(dir, "trail.vkey")
	os.WriteFile(pub, []byte(d.OK(t, "audit", "public-key")), 0o644)
	if _, err := note.NewVerifier(strings.TrimSpace(readFile(t, pub))); err != nil {
		t.Fatalf("audit public-key: %v", err)
	}
	stopDaemon(t, d)

	// Someone who holds the state directory holds the signing key too.
	forger := testkit.ShortDir(t)
	if out, err := exec.Command("cp", "-a", d.State, filepath.Join(forger, "state")).CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	d = testkit.Start(t, testkit.Config{Dir: dir, Args: args})
	for range 3 {
		d.OK(t, "encrypt", "--key-id", key, "--plaintext", "aGk=", "--encryption-context", "app=true")
	}
	stopDaemon(t, d)

	// A copy, checked offline against the public key and the exports.
	trail := filepath.Join(t.TempDir(), "trail")
	copyFiles(t, filepath.Join(d.State, "audit", "audit-*.jsonl"), trail)
	out, code := offlineKmsctl(t, dir, "audit", "verify", "--public-key", pub, "--checkpoints", export, trail)
	var v struct {
		Status                                   string
		SignaturesChecked, CheckpointMACsChecked bool
		SignedCheckpoints, ExportedCheckpoints   int
		TreeSize, LastSeq                        uint64
	}
	json.Unmarshal([]byte(out), &v)
	if code != 0 || v.Status != "OK" || !v.SignaturesChecked || v.CheckpointMACsChecked || v.SignedCheckpoints < 2 || v.ExportedCheckpoints < 2 || v.TreeSize+1 != v.LastSeq {
		t.Fatalf("offline verify: exit %d\n%s", code, out)
	}

	// An inclusion proof of the first Encrypt, and a consistency proof.
	seq := strings.TrimSpace(d.OK(t, "audit", "query", "--operation", "Encrypt", trail))
	var rec struct{ Seq int }
	json.Unmarshal([]byte(strings.Split(seq, "\n")[0]), &rec)
	proofFile := filepath.Join(dir, "proof.json")
	proof, code := offlineKmsctl(t, dir, "audit", "prove", "--seq", strconv.Itoa(rec.Seq), trail)
	if code != 0 || rec.Seq == 0 {
		t.Fatalf("audit prove --seq %d: exit %d", rec.Seq, code)
	}
	os.WriteFile(proofFile, []byte(proof), 0o644)
	if out, code := offlineKmsctl(t, dir, "audit", "verify-proof", "--public-key", pub, proofFile); code != 0 || !strings.Contains(out, `"Status": "OK"`) {
		t.Fatalf("verify-proof: exit %d\n%s\n%s", code, out, proof)
	}
	os.WriteFile(proofFile, bytes.Replace([]byte(proof), []byte(`\"uid\":0`), []byte(`\"uid\":1`), 1), 0o644)
	if out, code := offlineKmsctl(t, dir, "audit", "verify-proof", "--public-key", pub, proofFile); code != 1 || !strings.Contains(out, `"Status": "INVALID"`) {
		t.Fatalf("verify-proof of an edited record: exit %d\n%s", code, out)
	}
	if proof, code = offlineKmsctl(t, dir, "audit", "prove", "--from", "3", trail); code != 0 {
		t.Fatalf("audit prove --from 3: exit %d", code)
	}
	os.WriteFile(proofFile, []byte(proof), 0o644)
	if out, code := offlineKmsctl(t, dir, "audit", "verify-proof", "--public-key", pub, proofFile); code != 0 || !strings.Contains(out, `"Type": "consistency"`) {
		t.Fatalf("consistency proof: exit %d\n%s\n%s", code, out, proof)
	}

	// Another key of the same name is not the trail's.
	_, otherKey, _ := note.GenerateKey(rand.Reader, strings.Split(readFile(t, pub), "+")[0])
	other := filepath.Join(dir, "other.vkey")
	os.WriteFile(other, []byte(otherKey+"\n"), 0o644)
	if out, code := offlineKmsctl(t, dir, "audit", "verify", "--public-key", other, trail); code != 1 || !strings.Contains(out, "not signed by the trail's key") {
		t.Fatalf("verify with another key: exit %d\n%s", code, out)
	}

	// The forger's history: another kmsd on the copied state, signing
	// with the same key. On the key alone it passes; the exports catch it.
	f := testkit.Start(t, testkit.Config{Dir: forger})
	for range 10 { // a history as long as the true one, or longer
		f.OK(t, "encrypt", "--key-id", key, "--plaintext", "aGk=", "--encryption-context", "app=forged")
	}
	stopDaemon(t, f)
	forged := filepath.Join(f.State, "audit")
	if out, code := offlineKmsctl(t, dir, "audit", "verify", "--public-key", pub, forged); code != 0 {
		t.Fatalf("the forged trail on the key alone: exit %d\n%s", code, out)
	}
	out, code = offlineKmsctl(t, dir, "audit", "verify", "--public-key", pub, "--checkpoints", export, forged)
	if code != 1 || !strings.Contains(out, `"Status": "BROKEN"`) || !strings.Contains(out, "rewritten after it was exported") {
		t.Fatalf("the forged trail against the exports: exit %d\n%s", code, out)
	}
}

func readFile(t *testing.T, name string) string {
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
