package fusefs_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"kmsd/daemon"
	"kmsd/daemon/audit"
	"kmsd/internal/testkit"
	"kmsd/wire/api"
	"kmsd/wire/client"
)

// kmsd is a daemon run in-process with its FUSE view mounted for real.
type kmsd struct {
	*testkit.InProcess
	mnt   string
	c     *client.Client
	keyID string // the key of alias/app
}

func (k *kmsd) logs() string { return k.Log.String() }

// start runs kmsd with --mount (and --mount-allow-other) in a directory
// other users can traverse, and makes alias/app. kmsd is ready once the
// mount serves; when it stops, the mount must be gone.
func start(t *testing.T) *kmsd {
	t.Helper()
	testkit.RequireFUSE(t)
	dir := testkit.ShortDir(t)
	os.Chmod(dir, 0o755)
	mnt := filepath.Join(dir, "fs") // not made here: kmsd makes a missing mount point
	t.Cleanup(func() {
		if mounted(mnt) {
			t.Errorf("%s is still mounted after kmsd stopped", mnt)
			syscall.Unmount(mnt, syscall.MNT_DETACH)
		}
	})
	k := &kmsd{mnt: mnt, InProcess: testkit.StartInProcess(t, daemon.Options{StateDir: filepath.Join(dir, "state"),
		Socket: filepath.Join(dir, "kmsd.sock"), SocketMode: 0o666, Mount: mnt, MountAllow: true, AuditSync: "batch"})}
	k.c = k.Dial(t)
	k.keyID = k.createKey(t, "alias/app")
	return k
}

func (k *kmsd) createKey(t *testing.T, alias string) string {
	t.Helper()
	ctx := context.Background()
	md, err := k.c.CreateKey(ctx, &api.CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.c.CreateAlias(ctx, &api.AliasInput{AliasName: alias, TargetKeyId: md.KeyMetadata.KeyId}); err != nil {
		t.Fatal(err)
	}
	return md.KeyMetadata.KeyId
}

func (k *kmsd) path(p string) string { return filepath.Join(k.mnt, p) }

func mounted(dir string) bool {
	b, _ := os.ReadFile("/proc/self/mountinfo")
	return bytes.Contains(b, []byte(" "+dir+" "))
}

// transact opens name, writes each chunk, and reads the result on the
// same descriptor.
func transact(name string, chunks ...[]byte) ([]byte, error) {
	f, err := os.OpenFile(name, os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	for _, c := range chunks {
		if _, err := f.Write(c); err != nil {
			return nil, err
		}
	}
	var out bytes.Buffer
	_, err = out.ReadFrom(f)
	return out.Bytes(), err
}

func TestTree(t *testing.T) {
	k := start(t)
	k.createKey(t, "alias/team/db")
	cases := []struct{ dir, want string }{
		{"", "keys"},
		{"keys", "app by-id team"},
		{"keys/team", "db"},
		{"keys/app", "alg context datakey decrypt decrypt.b64 encrypt encrypt.b64 mac metadata.json policy.json public-key.pem sign verify"},
		{"keys/team/db", "alg context datakey decrypt decrypt.b64 encrypt encrypt.b64 mac metadata.json policy.json public-key.pem sign verify"},
		{"keys/by-id/" + k.keyID, "alg context datakey decrypt decrypt.b64 encrypt encrypt.b64 mac metadata.json policy.json public-key.pem sign verify"},
		{"keys/app/context/a=b", "datakey decrypt decrypt.b64 encrypt encrypt.b64"},
	}
	for _, c := range cases {
		ents, err := os.ReadDir(k.path(c.dir))
		if err != nil {
			t.Errorf("ls %s: %v", c.dir, err)
			continue
		}
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		slices.Sort(names)
		if got := strings.Join(names, " "); got != c.want {
			t.Errorf("ls %s = %q, want %q", c.dir, got, c.want)
		}
	}
	ids, err := os.ReadDir(k.path("keys/by-id"))
	if err != nil || len(ids) != 2 {
		t.Errorf("ls keys/by-id: %v, %v; want the two keys", ids, err)
	}
	// An alias made on the socket is there at once: misses are not cached.
	if _, err := os.Stat(k.path("keys/later")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("stat keys/later before it exists: %v", err)
	}
	k.createKey(t, "alias/later")
	if _, err := os.Stat(k.path("keys/later/encrypt")); err != nil {
		t.Errorf("alias made on the socket: %v", err)
	}
	fi, err := os.Stat(k.path("keys/app/encrypt"))
	if err != nil || fi.Mode().Perm() != 0o666 || fi.Size() != 0 {
		t.Errorf("stat encrypt: %v %v", fi, err)
	}
	fi, err = os.Stat(k.path("keys/app/metadata.json"))
	if err != nil || fi.Mode().Perm() != 0o444 {
		t.Errorf("stat metadata.json: %v %v", fi, err)
	}
}

func TestRoundTrips(t *testing.T) {
	k := start(t)
	msg := []byte("attack at dawn")
	ct, err := transact(k.path("keys/app/encrypt"), msg[:6], msg[6:]) // two writes are one input
	if err != nil {
		t.Fatal(err)
	}
	// The blob is a real one: the socket decrypts it.
	dec, err := k.c.Decrypt(context.Background(), &api.DecryptInput{CiphertextBlob: ct})
	if err != nil || !bytes.Equal(dec.Plaintext, msg) || dec.KeyId == "" || !strings.HasSuffix(dec.KeyId, k.keyID) {
		t.Fatalf("socket decrypt of a FUSE blob: %v %q", err, dec)
	}
	pt, err := transact(k.path("keys/app/decrypt"), ct)
	if err != nil || !bytes.Equal(pt, msg) {
		t.Errorf("decrypt: %q %v", pt, err)
	}
	b64, err := transact(k.path("keys/by-id/"+k.keyID+"/encrypt.b64"), msg)
	if err != nil || !bytes.HasSuffix(b64, []byte("\n")) {
		t.Fatalf("encrypt.b64: %q %v", b64, err)
	}
	if _, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b64))); err != nil {
		t.Errorf("encrypt.b64 output is not base64: %v", err)
	}
	pt, err = transact(k.path("keys/app/decrypt.b64"), b64)
	if err != nil || !bytes.Equal(pt, msg) {
		t.Errorf("decrypt.b64: %q %v", pt, err)
	}
	// With a context: it binds, and the socket sees the same context.
	ctxDir := "keys/app/context/purpose=backup,note=a%2Cb%3Dc"
	ct, err = transact(k.path(ctxDir+"/encrypt"), msg)
	if err != nil {
		t.Fatal(err)
	}
	ec := map[string]string{"purpose": "backup", "note": "a,b=c"}
	if dec, err := k.c.Decrypt(context.Background(), &api.DecryptInput{CiphertextBlob: ct, EncryptionContext: ec}); err != nil || !bytes.Equal(dec.Plaintext, msg) {
		t.Errorf("socket decrypt with the context: %v", err)
	}
	if pt, err := transact(k.path(ctxDir+"/decrypt"), ct); err != nil || !bytes.Equal(pt, msg) {
		t.Errorf("decrypt with the context: %q %v", pt, err)
	}
	// The reverse: a socket blob decrypts through the mount.
	enc, err := k.c.Encrypt(context.Background(), &api.EncryptInput{KeyId: "alias/app", Plaintext: msg})
	if err != nil {
		t.Fatal(err)
	}
	if pt, err := transact(k.path("keys/app/decrypt"), enc.CiphertextBlob); err != nil || !bytes.Equal(pt, msg) {
		t.Errorf("FUSE decrypt of a socket blob: %q %v", pt, err)
	}
}

func TestReadOnlyFiles(t *testing.T) {
	k := start(t)
	b, err := os.ReadFile(k.path("keys/app/datakey"))
	if err != nil {
		t.Fatal(err)
	}
	var dk api.GenerateDataKeyOutput
	if err := json.Unmarshal(b, &dk); err != nil || len(dk.Plaintext) != 32 {
		t.Fatalf("datakey: %v %s", err, b)
	}
	dec, err := k.c.Decrypt(context.Background(), &api.DecryptInput{CiphertextBlob: dk.CiphertextBlob})
	if err != nil || !bytes.Equal(dec.Plaintext, dk.Plaintext) {
		t.Errorf("the data key's blob does not decrypt to its plaintext: %v", err)
	}
	b, err = os.ReadFile(k.path("keys/app/metadata.json"))
	var md api.KeyMetadataOutput
	if err != nil || json.Unmarshal(b, &md) != nil || md.KeyMetadata.KeyId != k.keyID || md.KeyMetadata.KeyState != "Enabled" {
		t.Errorf("metadata.json: %v %s", err, b)
	}
	b, err = os.ReadFile(k.path("keys/app/policy.json"))
	var pol struct{ Statement []json.RawMessage }
	if err != nil || json.Unmarshal(b, &pol) != nil || len(pol.Statement) == 0 {
		t.Errorf("policy.json: %v %s", err, b)
	}
	if _, err := os.OpenFile(k.path("keys/app/policy.json"), os.O_WRONLY, 0); !errors.Is(err, syscall.EACCES) {
		t.Errorf("opening policy.json for writing: %v, want EACCES", err)
	}
	// rm cannot remove what the tree shows (it reported success and did
	// nothing): EROFS, and the file is still there.
	for _, p := range []string{"keys/app/encrypt", "keys/app/context", "keys/app"} {
		if err := os.Remove(k.path(p)); !errors.Is(err, syscall.EROFS) {
			t.Errorf("rm %s: %v, want EROFS", p, err)
		}
		if _, err := os.Stat(k.path(p)); err != nil {
			t.Errorf("%s after rm: %v", p, err)
		}
	}
}

func TestErrors(t *testing.T) {
	k := start(t)
	other := k.createKey(t, "alias/other")
	ct, err := transact(k.path("keys/app/context/a=1/encrypt"), []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		path  string
		input [][]byte
		want  syscall.Errno
	}{
		{"input over the limit", "keys/app/encrypt", [][]byte{make([]byte, 4096), {1}}, syscall.EINVAL},
		{"empty input", "keys/app/encrypt", nil, syscall.EINVAL},
		{"bad ciphertext", "keys/app/decrypt", [][]byte{[]byte("not a blob")}, syscall.EINVAL},
		{"wrong context", "keys/app/context/a=2/decrypt", [][]byte{ct}, syscall.EINVAL},
		{"missing context", "keys/app/decrypt", [][]byte{ct}, syscall.EINVAL},
		{"another key's blob", "keys/by-id/" + other + "/decrypt", [][]byte{ct}, syscall.EINVAL},
		{"not base64", "keys/app/decrypt.b64", [][]byte{[]byte("@@@")}, syscall.EINVAL},
		{"unknown alias", "keys/nope/encrypt", [][]byte{{1}}, syscall.ENOENT},
		{"unknown key id", "keys/by-id/0b7e6f1e-0000-4000-8000-000000000000/encrypt", [][]byte{{1}}, syscall.ENOENT},
		{"alias under by-id", "keys/by-id/alias/app/encrypt", [][]byte{{1}}, syscall.ENOENT},
		{"bad context segment", "keys/app/context/novalue/encrypt", [][]byte{{1}}, syscall.EINVAL},
		{"unknown file", "keys/app/seal", [][]byte{{1}}, syscall.ENOENT},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, err := transact(k.path(c.path), c.input...)
			if !errors.Is(err, c.want) {
				t.Errorf("got %q, %v; want %v", out, err, c.want)
			}
		})
	}
	// A write after the result exists is refused; the result stays.
	f, err := os.OpenFile(k.path("keys/app/encrypt"), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.Write([]byte("abc"))
	buf := make([]byte, 8192)
	n, err := f.Read(buf)
	if err != nil || n == 0 {
		t.Fatalf("read: %d %v", n, err)
	}
	if _, err := f.Write([]byte("more")); !errors.Is(err, syscall.EBUSY) {
		t.Errorf("write after the result: %v, want EBUSY", err)
	}
	if n, err := f.Read(buf); n != 0 {
		t.Errorf("read past the result: %d %v, want EOF", n, err)
	}
	// A write-only open could never read its result: refused, not a
	// write that silently does nothing (printf x > encrypt).
	for _, name := range []string{"encrypt", "decrypt.b64", "context/a=1/encrypt"} {
		f, err := os.OpenFile(k.path("keys/app/"+name), os.O_WRONLY|os.O_TRUNC, 0)
		if err == nil {
			f.Close()
		}
		if !errors.Is(err, syscall.EINVAL) {
			t.Errorf("opening %s write-only: %v, want EINVAL", name, err)
		}
	}
	if !strings.Contains(k.logs(), "InvalidCiphertextException") || !strings.Contains(k.logs(), "input longer than the operation takes") ||
		!strings.Contains(k.logs(), "opened write-only") {
		t.Errorf("the log does not say why requests were refused:\n%s", k.logs())
	}
	// One spelling of an errno in the log: its name.
	errnos := regexp.MustCompile(`errno=("[^"]*"|\S*)`).FindAllStringSubmatch(k.logs(), -1)
	if len(errnos) < len(cases) {
		t.Errorf("%d errnos logged for %d refusals:\n%s", len(errnos), len(cases), k.logs())
	}
	for _, m := range errnos {
		if !regexp.MustCompile(`^E[A-Z]+$`).MatchString(m[1]) {
			t.Errorf("errno logged as %s, not by its name", m[0])
		}
	}
}

// TestConcurrentHandles writes from many goroutines, each on its own
// handle and in several pieces, so a mixed input would show.
func TestConcurrentHandles(t *testing.T) {
	k := start(t)
	const n = 16
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range 20 {
				msg := fmt.Sprintf("writer %02d round %02d %s", i, r, strings.Repeat("x", i*50))
				parts := [][]byte{[]byte(msg[:7]), []byte(msg[7:15]), []byte(msg[15:])}
				ct, err := transact(k.path("keys/app/encrypt"), parts...)
				if err != nil {
					errs <- err
					return
				}
				pt, err := transact(k.path("keys/app/decrypt"), ct[:10], ct[10:])
				if err != nil || string(pt) != msg {
					errs <- fmt.Errorf("writer %d: got %q (%v), want %q", i, pt, err, msg)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestOtherUser runs a shell as another uid: a key it may not see does not
// exist for it, a key whose policy lets it describe but not encrypt
// refuses the encryption, and a key it may use works.
func TestOtherUser(t *testing.T) {
	k := start(t)
	ctx := context.Background()
	seen := k.createKey(t, "alias/seen")
	shared := k.createKey(t, "alias/shared")
	put := func(id, actions string) {
		pol := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[
		  {"Effect":"Allow","Principal":{"Kmsd":"uid:0"},"Action":"kms:*","Resource":"*"},
		  {"Effect":"Allow","Principal":{"Kmsd":"uid:65534"},"Action":%s,"Resource":"*"}]}`, actions)
		if _, err := k.c.PutKeyPolicy(ctx, &api.PutKeyPolicyInput{KeyId: id, PolicyName: "default", Policy: pol}); err != nil {
			t.Fatal(err)
		}
	}
	put(seen, `"kms:DescribeKey"`)
	put(shared, `["kms:DescribeKey","kms:Encrypt","kms:Decrypt"]`)
	script := `m=$1
for a in app seen shared; do
  if exec 3<>"$m/keys/$a/encrypt"; then
    printf secret >&3
    if cat <&3 >/dev/null; then echo "$a ok"; else echo "$a read failed"; fi
    exec 3>&-
  else
    echo "$a open failed"
  fi
done 2>&1
ls "$m/keys"`
	cmd := exec.Command("/bin/bash", "-c", script, "bash", k.mnt)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	got := string(out)
	for _, want := range []string{"No such file or directory", "cat: -: Permission denied", "seen read failed", "shared ok", "app open failed"} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "app\n") || !strings.Contains(got, "seen\nshared\n") {
		t.Errorf("ls shows keys uid 65534 may not see, or hides its own:\n%s", got)
	}
	if !strings.Contains(k.logs(), "AccessDeniedException") {
		t.Errorf("the log does not say why the encryption was refused:\n%s", k.logs())
	}
}

// TestAudited checks that a FUSE encryption is in the audit trail as the
// caller, with source fuse, and that no plaintext is there.
func TestAudited(t *testing.T) {
	k := start(t)
	secret := []byte("fuse-audit-secret-7f3a")
	if _, err := transact(k.path("keys/app/encrypt"), secret); err != nil {
		t.Fatal(err)
	}
	files, err := audit.Files(filepath.Join(k.State, "audit"))
	if err != nil {
		t.Fatal(err)
	}
	var found []map[string]any
	deadline := time.Now().Add(10 * time.Second) // the record is written before the read returns; this only guards a hang
	for len(found) == 0 && time.Now().Before(deadline) {
		err = audit.Query(files, audit.Filter{Operation: "Encrypt"}, func(line []byte) error {
			if bytes.Contains(line, secret) {
				t.Errorf("the audit trail holds the plaintext: %s", line)
			}
			var m map[string]any
			if err := json.Unmarshal(line, &m); err != nil {
				return err
			}
			found = append(found, m)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(found) != 1 {
		t.Fatalf("found %d Encrypt records, want 1", len(found))
	}
	rec, _ := json.Marshal(found[0])
	for _, want := range []string{`"source":"fuse"`, `"uid":0`, k.keyID, fmt.Sprintf(`"pid":%d`, os.Getpid())} {
		if !bytes.Contains(rec, []byte(want)) {
			t.Errorf("record lacks %s: %s", want, rec)
		}
	}
}

// TestIdentityBoundAtOpen: a shell opens the file and writes, and cat, a
// child process, does the read that runs the operation; the audit record
// names the shell, which opened it.
func TestIdentityBoundAtOpen(t *testing.T) {
	k := start(t)
	cmd := exec.Command("/bin/sh", "-c", `echo $$; exec 3<>"$1/keys/app/encrypt"; printf abc >&3; cat <&3 >/dev/null`, "sh", k.mnt)
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	shell := strings.TrimSpace(string(out))
	files, err := audit.Files(filepath.Join(k.State, "audit"))
	if err != nil {
		t.Fatal(err)
	}
	var recs []string
	err = audit.Query(files, audit.Filter{Operation: "Encrypt"}, func(line []byte) error {
		recs = append(recs, string(line))
		return nil
	})
	if err != nil || len(recs) != 1 {
		t.Fatalf("Encrypt records: %v %q", err, recs)
	}
	if !strings.Contains(recs[0], `"pid":`+shell+",") || !strings.Contains(recs[0], `"exe":"`) || strings.Contains(recs[0], "/cat") {
		t.Errorf("the record does not name the shell (pid %s) that opened the file: %s", shell, recs[0])
	}
}

// TestSigningFiles: sign, verify, mac and public-key.pem of asymmetric and
// HMAC keys, checked against the socket and the standard library.
func TestSigningFiles(t *testing.T) {
	k := start(t)
	ctx := context.Background()
	alias := func(spec, usage, name string) string {
		md, err := k.c.CreateKey(ctx, &api.CreateKeyInput{KeySpec: spec, KeyUsage: usage})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := k.c.CreateAlias(ctx, &api.AliasInput{AliasName: name, TargetKeyId: md.KeyMetadata.KeyId}); err != nil {
			t.Fatal(err)
		}
		return md.KeyMetadata.KeyId
	}
	alias("ECC_NIST_P256", "SIGN_VERIFY", "alias/signer")
	alias("HMAC_256", "GENERATE_VERIFY_MAC", "alias/mac")
	msg := []byte("signed through the mount")

	sig, err := transact(k.path("keys/signer/sign"), msg)
	if err != nil {
		t.Fatal(err)
	}
	pemText, err := os.ReadFile(k.path("keys/signer/public-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(pemText)
	if block == nil || block.Type != "PUBLIC KEY" {
		t.Fatalf("public-key.pem: %q", pemText)
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	d := sha256.Sum256(msg)
	if !ecdsa.VerifyASN1(pub.(*ecdsa.PublicKey), d[:], sig) {
		t.Fatal("the mount's signature does not verify with its public key")
	}
	line := []byte(base64.StdEncoding.EncodeToString(sig) + "\n")
	if out, err := transact(k.path("keys/signer/verify"), line, msg); err != nil || string(out) != "true\n" {
		t.Errorf("verify: %q %v", out, err)
	}
	if _, err := transact(k.path("keys/signer/verify"), line, []byte("another message")); !errors.Is(err, syscall.EBADMSG) {
		t.Errorf("verify of another message: %v, want EBADMSG", err)
	}
	if _, err := transact(k.path("keys/signer/verify"), msg); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("verify without a signature line: %v, want EINVAL", err)
	}

	mac, err := transact(k.path("keys/mac/mac"), msg)
	if err != nil {
		t.Fatal(err)
	}
	want, err := k.c.GenerateMac(ctx, &api.GenerateMacInput{KeyId: "alias/mac", Message: msg, MacAlgorithm: "HMAC_SHA_256"})
	if err != nil || !bytes.Equal(mac, want.Mac) {
		t.Errorf("mac: %x, socket %v %v", mac, want, err)
	}
	for _, p := range []string{"keys/app/sign", "keys/mac/sign", "keys/signer/mac"} {
		if _, err := transact(k.path(p), msg); !errors.Is(err, syscall.EINVAL) {
			t.Errorf("%s: %v, want EINVAL (the key's usage)", p, err)
		}
	}
	if _, err := os.ReadFile(k.path("keys/mac/public-key.pem")); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("an HMAC key's public key: %v, want EINVAL", err)
	}
	if _, err := transact(k.path("keys/signer/sign"), make([]byte, 4097)); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("a message over 4096 bytes: %v", err)
	}

	// alg/<ALGORITHM>/: the key's algorithms, each its own sign and verify.
	alias("RSA_2048", "SIGN_VERIFY", "alias/jwt")
	ents, err := os.ReadDir(k.path("keys/jwt/alg"))
	if err != nil || len(ents) != 6 {
		t.Fatalf("ls keys/jwt/alg: %v %v", ents, err)
	}
	if names, _ := os.ReadDir(k.path("keys/jwt/alg/RSASSA_PKCS1_V1_5_SHA_256")); len(names) != 3 {
		t.Errorf("an algorithm's directory: %v, want mac sign verify", names)
	}
	pkcs1, err := transact(k.path("keys/jwt/alg/RSASSA_PKCS1_V1_5_SHA_256/sign"), msg)
	if err != nil {
		t.Fatal(err)
	}
	v, err := k.c.Verify(ctx, &api.VerifyInput{KeyId: "alias/jwt", Message: msg, Signature: pkcs1, SigningAlgorithm: "RSASSA_PKCS1_V1_5_SHA_256"})
	if err != nil || !v.SignatureValid {
		t.Fatalf("the PKCS#1 signature made through alg/: %v", err)
	}
	line = []byte(base64.StdEncoding.EncodeToString(pkcs1) + "\n")
	if out, err := transact(k.path("keys/jwt/alg/RSASSA_PKCS1_V1_5_SHA_256/verify"), line, msg); err != nil || string(out) != "true\n" {
		t.Errorf("verify under alg/: %q %v", out, err)
	}
	if _, err := transact(k.path("keys/jwt/alg/RSASSA_PSS_SHA_256/verify"), line, msg); !errors.Is(err, syscall.EBADMSG) {
		t.Errorf("a PKCS#1 signature verified as PSS: %v, want EBADMSG", err)
	}
	if _, err := transact(k.path("keys/jwt/alg/ECDSA_SHA_256/sign"), msg); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("an algorithm the key lacks: %v, want EINVAL", err)
	}
	if _, err := os.Stat(k.path("keys/jwt/alg/not-an-algorithm")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a malformed algorithm name: %v", err)
	}
}
