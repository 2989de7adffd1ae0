package e2e

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"kmsd/internal/ci"
	"kmsd/internal/testkit"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// asUser runs the real kmsctl as another uid (and optionally in a cgroup),
// as root can. It returns stdout, stderr and the exit code.
type runAs struct {
	uid, gid uint32
	groups   []uint32
	cgroupFD int // -1: stay in the test's cgroup
}

func kmsctlAs(t *testing.T, d *testkit.Daemon, who runAs, args ...string) (string, string, int) {
	t.Helper()
	_, kmsctl := testkit.Binaries(t)
	cmd := exec.Command(kmsctl, args...)
	cmd.Env = []string{"KMSD_SOCKET=" + d.Sock, "PATH=/usr/bin:/bin"}
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: who.uid, Gid: who.gid, Groups: who.groups}}
	if who.cgroupFD >= 0 {
		cmd.SysProcAttr.UseCgroupFD, cmd.SysProcAttr.CgroupFD = true, who.cgroupFD
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

// multiUserDaemon starts kmsd with a socket other uids can reach.
func multiUserDaemon(t *testing.T) *testkit.Daemon {
	testkit.RequireRoot(t)
	dir := testkit.ShortDir(t)
	for _, p := range []string{dir, testkit.BinDir(t)} {
		if err := os.Chmod(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return testkit.Start(t, testkit.Config{Dir: dir, Args: []string{"--socket-mode", "0666"}})
}

// expect checks a kmsctl run: code 0, or the exception named on stderr.
func expect(t *testing.T, what string, stdout, stderr string, code int, exception string) string {
	t.Helper()
	switch {
	case exception == "" && code != 0:
		t.Fatalf("%s: exit %d\n%s", what, code, stderr)
	case exception != "" && (code != 254 || !strings.Contains(stderr, "An error occurred ("+exception+")")):
		t.Fatalf("%s: want %s, got exit %d\n%s%s", what, exception, code, stdout, stderr)
	}
	return stdout
}

func TestGrantsAcrossUsers(t *testing.T) {
	t.Parallel()
	d := multiUserDaemon(t)
	key := strings.TrimSpace(d.OK(t, "create-key", "--query", "KeyMetadata.KeyId", "--output", "text"))
	alice := runAs{uid: 5001, gid: 5001, cgroupFD: -1}
	enc := func(ctxArg string) (string, string, int) {
		return kmsctlAs(t, d, alice, "encrypt", "--key-id", key, "--plaintext", "aGVsbG8=", "--encryption-context", ctxArg, "--query", "CiphertextBlob", "--output", "text")
	}
	o, e, c := enc("tenant=a")
	expect(t, "before the grant", o, e, c, "NotFoundException")

	out := d.OK(t, "create-grant", "--key-id", key, "--grantee-principal", "uid:5001", "--operations", "Encrypt", "Decrypt", "DescribeKey",
		"--constraints", "EncryptionContextSubset={tenant=a}", "--retiring-principal", "uid:5001")
	var g wire_grant
	json.Unmarshal([]byte(out), &g)
	if g.GrantId == "" || g.GrantToken == "" {
		t.Fatalf("create-grant: %s", out)
	}
	o, e, c = enc("tenant=a")
	blob := strings.TrimSpace(expect(t, "after the grant", o, e, c, ""))
	o, e, c = enc("tenant=b")
	expect(t, "outside the constraint", o, e, c, "AccessDeniedException")
	o, e, c = kmsctlAs(t, d, alice, "decrypt", "--ciphertext-blob", blob, "--encryption-context", "tenant=a", "--query", "Plaintext", "--output", "text")
	if strings.TrimSpace(expect(t, "decrypt under the grant", o, e, c, "")) != "aGVsbG8=" {
		t.Fatalf("decrypt: %q", o)
	}
	o, e, c = kmsctlAs(t, d, alice, "disable-key", "--key-id", key)
	expect(t, "manage under an encrypt grant", o, e, c, "AccessDeniedException")
	o, e, c = kmsctlAs(t, d, alice, "list-retirable-grants", "--retiring-principal", "uid:5001", "--query", "length(Grants)", "--output", "text")
	if strings.TrimSpace(expect(t, "list-retirable-grants", o, e, c, "")) != "1" {
		t.Fatalf("retirable: %q", o)
	}
	if l := d.OK(t, "list-grants", "--key-id", key, "--query", "Grants[0].GranteePrincipal", "--output", "text"); l != "uid:5001\n" {
		t.Fatalf("list-grants: %q", l)
	}

	d.OK(t, "revoke-grant", "--key-id", key, "--grant-id", g.GrantId)
	o, e, c = enc("tenant=a")
	expect(t, "after revoke", o, e, c, "NotFoundException")

	// Retired by its retiring principal, with the token.
	out = d.OK(t, "create-grant", "--key-id", key, "--grantee-principal", "uid:5001", "--operations", `["Encrypt"]`, "--retiring-principal", "uid:5001")
	json.Unmarshal([]byte(out), &g)
	o, e, c = enc("x=y")
	expect(t, "second grant", o, e, c, "")
	o, e, c = kmsctlAs(t, d, alice, "retire-grant", "--grant-token", g.GrantToken)
	expect(t, "retire by the retiring principal", o, e, c, "")
	o, e, c = enc("x=y")
	expect(t, "after retire", o, e, c, "NotFoundException")
}

type wire_grant struct{ GrantId, GrantToken string }

func TestGroupPolicy(t *testing.T) {
	t.Parallel()
	d := multiUserDaemon(t)
	key := strings.TrimSpace(d.OK(t, "create-key", "--query", "KeyMetadata.KeyId", "--output", "text"))
	pol := `{"Version":"2012-10-17","Statement":[
	 {"Sid":"admin","Effect":"Allow","Principal":{"Kmsd":"uid:0"},"Action":"kms:*","Resource":"*"},
	 {"Sid":"members","Effect":"Allow","Principal":{"Kmsd":"gid:4242"},"Action":["kms:Encrypt","kms:DescribeKey"],"Resource":"*"}]}`
	polFile := filepath.Join(d.Dir, "policy.json")
	os.WriteFile(polFile, []byte(pol), 0o644)
	d.OK(t, "put-key-policy", "--key-id", key, "--policy", "file://"+polFile)
	if got := d.OK(t, "get-key-policy", "--key-id", key, "--query", "Policy", "--output", "text"); !strings.Contains(got, "gid:4242") {
		t.Fatalf("get-key-policy: %q", got)
	}
	member := runAs{uid: 5101, gid: 5101, groups: []uint32{4242}, cgroupFD: -1}
	primary := runAs{uid: 5102, gid: 4242, cgroupFD: -1}
	outsider := runAs{uid: 5103, gid: 5103, groups: []uint32{4243}, cgroupFD: -1}
	for name, who := range map[string]runAs{"supplementary member": member, "primary group": primary} {
		o, e, c := kmsctlAs(t, d, who, "encrypt", "--key-id", key, "--plaintext", "eA==")
		expect(t, name, o, e, c, "")
		o, e, c = kmsctlAs(t, d, who, "disable-key", "--key-id", key)
		expect(t, name+" manages", o, e, c, "AccessDeniedException")
	}
	o, e, c := kmsctlAs(t, d, outsider, "encrypt", "--key-id", key, "--plaintext", "eA==")
	expect(t, "outsider", o, e, c, "NotFoundException")
	if n := d.OK(t, "list-key-policies", "--key-id", key, "--query", "PolicyNames[0]", "--output", "text"); n != "default\n" {
		t.Fatalf("list-key-policies: %q", n)
	}
	// A malformed policy is refused with the fault named.
	_, errs, code := d.Kmsctl(t, "put-key-policy", "--key-id", key, "--policy", `{"Statement":[{"Effect":"Permit","Principal":"*"}]}`)
	if code != 254 || !strings.Contains(errs, "MalformedPolicyDocumentException") || !strings.Contains(errs, "Statement[0].Effect") {
		t.Fatalf("malformed: %d %s", code, errs)
	}
}

// TestUnitPrincipal makes a real cgroup named like a systemd unit, runs
// kmsctl inside it, and checks that a unit principal admits only that
// unit's processes, and that the unit gets its service-managed key.
func TestUnitPrincipal(t *testing.T) {
	t.Parallel()
	d := multiUserDaemon(t)
	root := cgroup2Mount(t)
	var rnd [4]byte
	rand.Read(rnd[:])
	unit := "kmsde2e-" + hex.EncodeToString(rnd[:]) + ".service"
	dir := filepath.Join(root, unit)
	if err := os.Mkdir(dir, 0o755); err != nil {
		ci.Skipf(t, "cannot make a cgroup under %s: %v", root, err)
	}
	t.Cleanup(func() { os.Remove(dir) })
	fd, err := syscall.Open(dir, syscall.O_DIRECTORY|syscall.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })

	inUnit := runAs{uid: 5201, gid: 5201, cgroupFD: fd}
	sameUIDOutside := runAs{uid: 5201, gid: 5201, cgroupFD: -1}
	if o, _, c := kmsctlAs(t, d, inUnit, "status"); c != 0 {
		ci.Skipf(t, "cannot start a process in the cgroup (%s): %s", dir, o)
	}
	key := strings.TrimSpace(d.OK(t, "create-key", "--query", "KeyMetadata.KeyId", "--output", "text"))
	pol := fmt.Sprintf(`{"Statement":[{"Effect":"Allow","Principal":{"Kmsd":"uid:0"},"Action":"kms:*","Resource":"*"},
	 {"Effect":"Allow","Principal":{"Kmsd":"unit:%s"},"Action":"kms:Encrypt","Resource":"*"}]}`, unit)
	d.OK(t, "put-key-policy", "--key-id", key, "--policy", pol)
	o, e, c := kmsctlAs(t, d, inUnit, "encrypt", "--key-id", key, "--plaintext", "eA==")
	expect(t, "in the unit", o, e, c, "")
	o, e, c = kmsctlAs(t, d, sameUIDOutside, "encrypt", "--key-id", key, "--plaintext", "eA==")
	expect(t, "same uid outside the unit", o, e, c, "NotFoundException")

	// The unit's own key, made on first use, used by it alone.
	alias := "alias/managed/" + unit
	o, e, c = kmsctlAs(t, d, sameUIDOutside, "encrypt", "--key-id", alias, "--plaintext", "eA==")
	expect(t, "managed alias from outside", o, e, c, "NotFoundException")
	o, e, c = kmsctlAs(t, d, inUnit, "encrypt", "--key-id", alias, "--plaintext", "eA==", "--query", "CiphertextBlob", "--output", "text")
	blob := strings.TrimSpace(expect(t, "managed alias from the unit", o, e, c, ""))
	if m := d.OK(t, "describe-key", "--key-id", alias, "--query", "KeyMetadata.KeyManager", "--output", "text"); m != "AWS\n" {
		t.Fatalf("key manager %q", m)
	}
	o, e, c = kmsctlAs(t, d, inUnit, "decrypt", "--ciphertext-blob", blob)
	expect(t, "unit decrypts", o, e, c, "")
	_, errs, code := d.Kmsctl(t, "decrypt", "--ciphertext-blob", blob)
	if code != 254 || !strings.Contains(errs, "AccessDeniedException") {
		t.Fatalf("root decrypting the unit's data: %d %s", code, errs)
	}
	_, errs, code = d.Kmsctl(t, "disable-key", "--key-id", strings.TrimSpace(d.OK(t, "describe-key", "--key-id", alias, "--query", "KeyMetadata.KeyId", "--output", "text")))
	if code != 254 || !strings.Contains(errs, "AccessDeniedException") {
		t.Fatalf("root managing the unit's key: %d %s", code, errs)
	}
}

// cgroup2Mount finds where the cgroup v2 hierarchy is mounted (plain
// /sys/fs/cgroup, or /sys/fs/cgroup/unified on hybrid systems).
func cgroup2Mount(t *testing.T) string {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		ci.Skip(t, err.Error())
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		for i, fl := range fields {
			if fl == "-" && i+1 < len(fields) && fields[i+1] == "cgroup2" {
				return fields[4]
			}
		}
	}
	ci.Skip(t, "no cgroup2 mount")
	return ""
}
