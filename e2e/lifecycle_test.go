package e2e

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"kmsd/internal/testkit"
	"kmsd/wire/api"
	"kmsd/wire/client"
)

// TestKill9UnderLoad kills kmsd while keys are being created and used,
// restarts it, and checks that every key whose CreateKey was answered
// exists and decrypts what it encrypted.
func TestKill9UnderLoad(t *testing.T) {
	dir := testkit.ShortDir(t)
	d := testkit.Start(t, testkit.Config{Dir: dir})
	type made struct {
		id   string
		blob []byte
		pt   string
	}
	var mu sync.Mutex
	var acked []made
	var keysAcked []string
	enough := make(chan struct{})
	ctx := context.Background()
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := client.Dial(ctx, d.Sock, client.Options{})
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
				if len(acked) == 40 {
					close(enough) // kill kmsd now, with requests in flight
				}
				mu.Unlock()
			}
		}()
	}
	<-enough
	d.Kill()
	wg.Wait()
	c := testkit.Start(t, testkit.Config{Dir: dir}).Dial(t)
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
	d := testkit.Start(t, testkit.Config{})
	ctx := context.Background()
	key, err := d.Dial(t).CreateKey(ctx, &api.CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := client.Dial(ctx, d.Sock, client.Options{})
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
	t.Parallel()
	dir := testkit.ShortDir(t)
	d := testkit.Start(t, testkit.Config{Dir: dir})
	key := strings.TrimSpace(d.OK(t, "create-key", "--query", "KeyMetadata.KeyId", "--output", "text"))
	if err := d.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := d.Wait(20 * time.Second); err != nil {
		t.Fatalf("kmsd on SIGTERM: %v\n%s", err, d.Log)
	}
	if !strings.Contains(d.Log.String(), "store closed") {
		t.Fatalf("no clean close in the log:\n%s", d.Log)
	}
	if !strings.Contains(d.Notes(), "STOPPING=1") {
		t.Errorf("kmsd did not tell its notify socket it was stopping: %q", d.Notes())
	}
	if _, err := os.Stat(d.Sock); err == nil {
		t.Fatal("socket left behind")
	}
	d2 := testkit.Start(t, testkit.Config{Dir: dir})
	if out := d2.OK(t, "describe-key", "--key-id", key, "--query", "KeyMetadata.KeyState", "--output", "text"); out != "Enabled\n" {
		t.Fatalf("after restart: %q", out)
	}
}

func TestSecondDaemonOnTheSameState(t *testing.T) {
	t.Parallel()
	dir := testkit.ShortDir(t)
	testkit.Start(t, testkit.Config{Dir: dir})
	kmsd, _ := testkit.Binaries(t)
	cmd := exec.Command(kmsd, "--state-dir", filepath.Join(dir, "state"), "--socket", filepath.Join(dir, "other.sock"))
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "in use by another kmsd") {
		t.Fatalf("second daemon: %v\n%s", err, out)
	}
	cmd = exec.Command(kmsd, "--state-dir", filepath.Join(dir, "state2"), "--socket", filepath.Join(dir, "kmsd.sock"))
	out, err = cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "another kmsd is serving this socket") {
		t.Fatalf("second daemon on a live socket: %v\n%s", err, out)
	}
}

func TestLogsHoldNoSecrets(t *testing.T) {
	t.Parallel()
	d := testkit.Start(t, testkit.Config{Args: []string{"--log-level", "debug"}})
	secret := "TOP-SECRET-KMSD-PLAINTEXT"
	pt := filepath.Join(d.Dir, "pt")
	os.WriteFile(pt, []byte(secret), 0o600)
	key := strings.TrimSpace(d.OK(t, "create-key", "--query", "KeyMetadata.KeyId", "--output", "text"))
	d.OK(t, "encrypt", "--key-id", key, "--plaintext", "fileb://"+pt)
	d.Kmsctl(t, "encrypt", "--key-id", "alias/missing", "--plaintext", "fileb://"+pt)
	root, _ := os.ReadFile(filepath.Join(d.State, "root-key"))
	log := d.Log.String()
	for _, s := range []string{secret, base64.StdEncoding.EncodeToString([]byte(secret)), base64.StdEncoding.EncodeToString(root), fmt.Sprintf("%x", root)} {
		if strings.Contains(log, s) {
			t.Fatalf("the log holds a secret:\n%s", log)
		}
	}
	if !strings.Contains(log, "aesni=") || !strings.Contains(log, "vaes=") || !strings.Contains(log, "avx2=") || !strings.Contains(log, "pclmulqdq=") {
		t.Fatalf("CPU flags not logged at start:\n%s", log)
	}
}
