package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"kmsd/wire/api"
	"kmsd/wire/client"
)

// The end-to-end tests build the real kmsd and kmsctl binaries and drive
// them as a user would.
var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "kmsd-bin")
	if err != nil {
		panic(err)
	}
	// kmsd with the race detector (it is what the tests exercise); kmsctl
	// without, as it starts once per command.
	for _, args := range [][]string{{"-race", "kmsd/cmd/kmsd"}, {"kmsd/cmd/kmsctl"}} {
		cmd := exec.Command("go", append([]string{"build", "-o", dir + "/"}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "building %v: %v\n%s", args, err, out)
			os.Exit(1)
		}
	}
	os.Setenv("GORACE", "atexit_sleep_ms=0 halt_on_error=1")
	bin = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// daemon is a running kmsd binary.
type daemon struct {
	t     *testing.T
	dir   string
	sock  string
	state string
	cmd   *exec.Cmd
	log   *syncBuffer
	done  chan error
}

// syncBuffer is kmsd's output, safe to read while kmsd writes it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func shortTemp(t *testing.T) string {
	d, err := os.MkdirTemp("", "kmsd")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

// startDaemon runs kmsd on state in dir and waits until its socket answers.
func startDaemon(t *testing.T, dir string, args ...string) *daemon {
	t.Helper()
	d := &daemon{t: t, dir: dir, sock: filepath.Join(dir, "kmsd.sock"), state: filepath.Join(dir, "state"), log: &syncBuffer{}, done: make(chan error, 1)}
	d.cmd = exec.Command(filepath.Join(bin, "kmsd"), append([]string{"--state-dir", d.state, "--socket", d.sock}, args...)...)
	d.cmd.Stdout, d.cmd.Stderr = d.log, d.log
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { d.done <- d.cmd.Wait() }()
	t.Cleanup(func() { d.cmd.Process.Kill(); <-d.done })
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := client.Dial(context.Background(), d.sock, client.Options{})
		if err == nil {
			c.Close()
			return d
		}
		select {
		case err := <-d.done:
			t.Fatalf("kmsd exited: %v\n%s", err, d.log)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("kmsd did not come up: %v\n%s", err, d.log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kmsctl runs the real kmsctl against d; it returns stdout, stderr and the
// exit code.
func (d *daemon) kmsctl(args ...string) (string, string, int) {
	d.t.Helper()
	cmd := exec.Command(filepath.Join(bin, "kmsctl"), args...)
	cmd.Env = append(os.Environ(), "KMSD_SOCKET="+d.sock)
	cmd.Dir = d.dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		d.t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

// ok runs kmsctl and fails the test unless it succeeds.
func (d *daemon) ok(args ...string) string {
	d.t.Helper()
	out, errs, code := d.kmsctl(args...)
	if code != 0 {
		d.t.Fatalf("kmsctl %s: exit %d\n%s", strings.Join(args, " "), code, errs)
	}
	return out
}

func TestAWSCLIWorkflow(t *testing.T) {
	d := startDaemon(t, shortTemp(t))
	var created struct{ KeyMetadata api.KeyMetadata }
	if err := json.Unmarshal([]byte(d.ok("create-key", "--description", "e2e", "--tags", "TagKey=env,TagValue=test")), &created); err != nil {
		t.Fatal(err)
	}
	key := created.KeyMetadata.KeyId
	if created.KeyMetadata.KeyState != "Enabled" || created.KeyMetadata.Description != "e2e" {
		t.Fatalf("created %+v", created)
	}
	d.ok("create-alias", "--alias-name", "alias/e2e", "--target-key-id", key)
	pt := filepath.Join(d.dir, "pt")
	os.WriteFile(pt, []byte("hello, kms"), 0o600)

	blob := d.ok("encrypt", "--key-id", "alias/e2e", "--plaintext", "fileb://"+pt, "--encryption-context", "purpose=e2e,team=core",
		"--query", "CiphertextBlob", "--output", "text")
	ct := filepath.Join(d.dir, "ct")
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(blob))
	if err != nil {
		t.Fatalf("encrypt --output text is not base64: %q", blob)
	}
	os.WriteFile(ct, raw, 0o600)
	out := d.ok("decrypt", "--ciphertext-blob", "fileb://"+ct, "--encryption-context", `{"team":"core","purpose":"e2e"}`,
		"--query", "Plaintext", "--output", "text")
	if got, _ := base64.StdEncoding.DecodeString(strings.TrimSpace(out)); string(got) != "hello, kms" {
		t.Fatalf("round trip gave %q", got)
	}
	// Base64 blob parameters work too, and a wrong context is refused as AWS refuses it.
	_, errs, code := d.kmsctl("decrypt", "--ciphertext-blob", strings.TrimSpace(blob), "--encryption-context", "purpose=other")
	if code != 254 || !strings.Contains(errs, "An error occurred (InvalidCiphertextException) when calling the Decrypt operation: ") {
		t.Fatalf("wrong context: exit %d, %q", code, errs)
	}

	// A data key, and its blob decrypts to it.
	var dk struct{ CiphertextBlob, Plaintext []byte }
	json.Unmarshal([]byte(d.ok("generate-data-key", "--key-id", key, "--key-spec", "AES_256", "--encryption-context", "file=a")), &dk)
	if len(dk.Plaintext) != 32 || len(dk.CiphertextBlob) == 0 {
		t.Fatalf("data key %+v", dk)
	}
	os.WriteFile(ct, dk.CiphertextBlob, 0o600)
	out = d.ok("decrypt", "--ciphertext-blob", "fileb://"+ct, "--encryption-context", "file=a", "--query", "Plaintext", "--output", "text")
	if strings.TrimSpace(out) != base64.StdEncoding.EncodeToString(dk.Plaintext) {
		t.Fatal("data key blob does not decrypt to the data key")
	}

	// Rotate, then the blob made before the rotation still decrypts.
	d.ok("rotate-key-on-demand", "--key-id", key)
	rots := d.ok("list-key-rotations", "--key-id", key, "--query", "length(Rotations)", "--output", "text")
	if strings.TrimSpace(rots) != "1" {
		t.Fatalf("rotations: %q", rots)
	}
	os.WriteFile(ct, raw, 0o600)
	out = d.ok("decrypt", "--ciphertext-blob", "fileb://"+ct, "--encryption-context", "purpose=e2e,team=core", "--query", "Plaintext", "--output", "text")
	if got, _ := base64.StdEncoding.DecodeString(strings.TrimSpace(out)); string(got) != "hello, kms" {
		t.Fatal("pre-rotation blob no longer decrypts")
	}
	newBlob := d.ok("encrypt", "--key-id", key, "--plaintext", base64.StdEncoding.EncodeToString([]byte("v2")), "--query", "KeyMaterialId", "--output", "text")
	if newBlob == created.KeyMetadata.CurrentKeyMaterialId+"\n" {
		t.Fatal("new encryptions still use the first material")
	}

	// Management commands, text output, errors and exit codes.
	if out := d.ok("describe-key", "--key-id", key, "--query", "KeyMetadata.[KeyState,Description]", "--output", "text"); out != "Enabled\te2e\n" {
		t.Fatalf("text output %q", out)
	}
	d.ok("update-key-description", "--key-id", key, "--description", "changed")
	d.ok("tag-resource", "--key-id", key, "--tags", `[{"TagKey":"b","TagValue":"2"}]`)
	if out := d.ok("list-resource-tags", "--key-id", key, "--query", "Tags[].TagKey", "--output", "text"); out != "b\tenv\n" {
		t.Fatalf("tags %q", out)
	}
	d.ok("untag-resource", "--key-id", key, "--tag-keys", "b")
	d.ok("enable-key-rotation", "--key-id", key, "--rotation-period-in-days", "90")
	if out := d.ok("get-key-rotation-status", "--key-id", key, "--query", "RotationPeriodInDays", "--output", "text"); out != "90\n" {
		t.Fatalf("rotation status %q", out)
	}
	d.ok("disable-key-rotation", "--key-id", key)
	d.ok("disable-key", "--key-id", key)
	_, errs, code = d.kmsctl("encrypt", "--key-id", key, "--plaintext", "eA==")
	if code != 254 || !strings.Contains(errs, "(DisabledException) when calling the Encrypt operation") {
		t.Fatalf("disabled: %d %q", code, errs)
	}
	d.ok("enable-key", "--key-id", key)
	if out := d.ok("schedule-key-deletion", "--key-id", key, "--pending-window-in-days", "7", "--query", "KeyState", "--output", "text"); out != "PendingDeletion\n" {
		t.Fatalf("schedule: %q", out)
	}
	d.ok("cancel-key-deletion", "--key-id", key)
	if out := d.ok("describe-key", "--key-id", key, "--query", "KeyMetadata.KeyState", "--output", "text"); out != "Disabled\n" {
		t.Fatalf("after cancel-key-deletion: %q", out)
	}
	d.ok("enable-key", "--key-id", key)
	d.ok("update-alias", "--alias-name", "alias/e2e", "--target-key-id", key)
	if out := d.ok("list-aliases", "--key-id", key, "--query", "Aliases[0].AliasName", "--output", "text"); out != "alias/e2e\n" {
		t.Fatalf("aliases %q", out)
	}
	d.ok("delete-alias", "--alias-name", "alias/e2e")
	if out := d.ok("generate-random", "--number-of-bytes", "16", "--query", "Plaintext", "--output", "text"); len(strings.TrimSpace(out)) != 24 {
		t.Fatalf("random %q", out)
	}
	d.ok("generate-data-key-without-plaintext", "--key-id", key, "--number-of-bytes", "64", "--query", "CiphertextBlob")
	if out := d.ok("re-encrypt", "--ciphertext-blob", "fileb://"+ct, "--source-encryption-context", "purpose=e2e,team=core",
		"--destination-key-id", key, "--query", "SourceKeyId", "--output", "text"); !strings.HasSuffix(out, key+"\n") {
		t.Fatalf("re-encrypt %q", out)
	}
	var status api.StatusOutput
	json.Unmarshal([]byte(d.ok("status")), &status)
	if status.KeyCount != 1 || status.Suite == "" || status.UptimeSeconds < 0 || status.Workers == 0 {
		t.Fatalf("status %+v", status)
	}
	_, errs, code = d.kmsctl("describe-key", "--key-id", "00000000-0000-0000-0000-000000000000")
	if code != 254 || !strings.Contains(errs, "An error occurred (NotFoundException) when calling the DescribeKey operation") {
		t.Fatalf("not found: %d %q", code, errs)
	}
	_, _, code = d.kmsctl("encrypt", "--key-id", key)
	if code != 252 {
		t.Fatalf("missing flag: exit %d", code)
	}
	_, errs, code = d.kmsctl("--socket", filepath.Join(d.dir, "nope.sock"), "status")
	if code != 255 || !strings.Contains(errs, "cannot reach kmsd") {
		t.Fatalf("no daemon: %d %q", code, errs)
	}
}

func TestListPagination(t *testing.T) {
	d := startDaemon(t, shortTemp(t))
	for range 5 {
		d.ok("create-key")
	}
	all := d.ok("list-keys", "--page-size", "2", "--query", "Keys[].KeyId", "--output", "text")
	var first struct {
		Keys      []api.KeyListEntry
		NextToken string
	}
	json.Unmarshal([]byte(d.ok("list-keys", "--max-items", "3")), &first)
	rest := d.ok("list-keys", "--starting-token", first.NextToken, "--query", "Keys[].KeyId", "--output", "text")
	var ids []string
	for _, k := range first.Keys {
		ids = append(ids, k.KeyId)
	}
	joined := strings.Join(ids, "\t") + "\t" + rest
	if len(strings.Fields(all)) != 5 || joined != all || first.NextToken == "" {
		t.Fatalf("all %q\nthen %q", all, joined)
	}
}

// TestKill9UnderLoad kills kmsd while keys are being created and used,
// restarts it, and checks that every key whose CreateKey was answered
// exists and decrypts what it encrypted.
func TestKill9UnderLoad(t *testing.T) {
	dir := shortTemp(t)
	d := startDaemon(t, dir)
	type made struct {
		id   string
		blob []byte
		pt   string
	}
	var mu sync.Mutex
	var acked []made
	var keysAcked []string
	ctx := context.Background()
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := client.Dial(ctx, d.sock, client.Options{})
			if err != nil {
				return
			}
			defer c.Close()
			for i := 0; ; i++ {
				k, err := c.CreateKey(ctx, &api.CreateKeyInput{})
				if err != nil {
					return // the daemon died
				}
				mu.Lock()
				keysAcked = append(keysAcked, k.KeyMetadata.KeyId)
				mu.Unlock()
				pt := fmt.Sprintf("worker %d item %d", w, i)
				e, err := c.Encrypt(ctx, &api.EncryptInput{KeyId: k.KeyMetadata.KeyId, Plaintext: []byte(pt)})
				if err != nil {
					return
				}
				mu.Lock()
				acked = append(acked, made{k.KeyMetadata.KeyId, e.CiphertextBlob, pt})
				mu.Unlock()
			}
		}()
	}
	for {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 40 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	d.cmd.Process.Signal(syscall.SIGKILL)
	<-d.done
	wg.Wait()
	d.done <- nil // for the cleanup
	d2 := startDaemon(t, dir)
	c, err := client.Dial(ctx, d2.sock, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, id := range keysAcked {
		if _, err := c.DescribeKey(ctx, &api.DescribeKeyInput{KeyId: id}); err != nil {
			t.Fatalf("acknowledged key %s lost: %v", id, err)
		}
	}
	for _, m := range acked {
		out, err := c.Decrypt(ctx, &api.DecryptInput{CiphertextBlob: m.blob})
		if err != nil || string(out.Plaintext) != m.pt {
			t.Fatalf("key %s: %v", m.id, err)
		}
	}
	t.Logf("%d keys acknowledged before kill -9, all present; %d blobs decrypt", len(keysAcked), len(acked))
}

func TestSixtyFourClients(t *testing.T) {
	d := startDaemon(t, shortTemp(t))
	ctx := context.Background()
	c0, err := client.Dial(ctx, d.sock, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	key, err := c0.CreateKey(ctx, &api.CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	c0.Close()
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := client.Dial(ctx, d.sock, client.Options{})
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			for i := range 50 {
				pt := fmt.Sprintf("client %d request %d", g, i)
				e, err := c.Encrypt(ctx, &api.EncryptInput{KeyId: key.KeyMetadata.KeyId, Plaintext: []byte(pt),
					EncryptionContext: map[string]string{"client": fmt.Sprint(g)}})
				if err != nil {
					errs <- err
					return
				}
				out, err := c.Decrypt(ctx, &api.DecryptInput{CiphertextBlob: e.CiphertextBlob, EncryptionContext: map[string]string{"client": fmt.Sprint(g)}})
				if err != nil || string(out.Plaintext) != pt {
					errs <- fmt.Errorf("client %d: %v %q", g, err, out)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func TestSIGTERMDrainsAndClosesCleanly(t *testing.T) {
	dir := shortTemp(t)
	d := startDaemon(t, dir)
	key := strings.TrimSpace(d.ok("create-key", "--query", "KeyMetadata.KeyId", "--output", "text"))
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-d.done:
		if err != nil {
			t.Fatalf("kmsd exited with %v\n%s", err, d.log)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("kmsd did not exit on SIGTERM")
	}
	d.done <- nil
	if !strings.Contains(d.log.String(), "store closed") {
		t.Fatalf("no clean close in the log:\n%s", d.log)
	}
	if _, err := os.Stat(d.sock); err == nil {
		t.Fatal("socket left behind")
	}
	d2 := startDaemon(t, dir)
	if out := d2.ok("describe-key", "--key-id", key, "--query", "KeyMetadata.KeyState", "--output", "text"); out != "Enabled\n" {
		t.Fatalf("after restart: %q", out)
	}
}

func TestSecondDaemonOnTheSameState(t *testing.T) {
	dir := shortTemp(t)
	startDaemon(t, dir)
	cmd := exec.Command(filepath.Join(bin, "kmsd"), "--state-dir", filepath.Join(dir, "state"), "--socket", filepath.Join(dir, "other.sock"))
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "in use by another kmsd") {
		t.Fatalf("second daemon: %v\n%s", err, out)
	}
	cmd = exec.Command(filepath.Join(bin, "kmsd"), "--state-dir", filepath.Join(dir, "state2"), "--socket", filepath.Join(dir, "kmsd.sock"))
	out, err = cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "another kmsd is serving this socket") {
		t.Fatalf("second daemon on a live socket: %v\n%s", err, out)
	}
}

func TestLogsHoldNoSecrets(t *testing.T) {
	d := startDaemon(t, shortTemp(t), "--log-level", "debug")
	secret := "TOP-SECRET-KMSD-PLAINTEXT"
	pt := filepath.Join(d.dir, "pt")
	os.WriteFile(pt, []byte(secret), 0o600)
	key := strings.TrimSpace(d.ok("create-key", "--query", "KeyMetadata.KeyId", "--output", "text"))
	d.ok("encrypt", "--key-id", key, "--plaintext", "fileb://"+pt)
	d.kmsctl("encrypt", "--key-id", "alias/missing", "--plaintext", "fileb://"+pt)
	root, _ := os.ReadFile(filepath.Join(d.state, "root-key"))
	log := d.log.String()
	for _, s := range []string{secret, base64.StdEncoding.EncodeToString([]byte(secret)), base64.StdEncoding.EncodeToString(root), fmt.Sprintf("%x", root)} {
		if strings.Contains(log, s) {
			t.Fatalf("the log holds a secret:\n%s", log)
		}
	}
	if !strings.Contains(log, "aesni=") || !strings.Contains(log, "vaes=") || !strings.Contains(log, "avx2=") || !strings.Contains(log, "pclmulqdq=") {
		t.Fatalf("CPU flags not logged at start:\n%s", log)
	}
}
