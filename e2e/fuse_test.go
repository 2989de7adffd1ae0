package e2e

import (
	"bytes"
	"kmsd/internal/testkit"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// startMounted runs the real kmsd with --mount and makes alias/app. kmsd
// says it is ready once the mount serves.
func startMounted(t *testing.T) (*testkit.Daemon, string) {
	t.Helper()
	testkit.RequireFUSE(t)
	dir := testkit.ShortDir(t)
	mnt := filepath.Join(dir, "fs")
	if err := os.Mkdir(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	d := testkit.Start(t, testkit.Config{Dir: dir, Args: []string{"--mount", mnt}})
	t.Cleanup(func() {
		if isMounted(mnt) {
			syscall.Unmount(mnt, syscall.MNT_DETACH)
		}
	})
	if !isMounted(mnt) {
		t.Fatalf("kmsd said it was ready before %s was mounted", mnt)
	}
	key := strings.TrimSpace(d.OK(t, "create-key", "--query", "KeyMetadata.KeyId", "--output", "text"))
	d.OK(t, "create-alias", "--alias-name", "alias/app", "--target-key-id", key)
	return d, mnt
}

func isMounted(dir string) bool {
	b, _ := os.ReadFile("/proc/self/mountinfo")
	return bytes.Contains(b, []byte(" "+dir+" "))
}

// readmeExamples returns the FUSE examples of the README: each sh block
// between the markers, with the text block that follows it.
func readmeExamples(t *testing.T) [][2]string {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "<!-- fuse-examples:begin -->")
	section, _, ok2 := strings.Cut(rest, "<!-- fuse-examples:end -->")
	if !ok || !ok2 {
		t.Fatal("README.md has no fuse-examples section")
	}
	re := regexp.MustCompile("(?s)```sh\n(.*?)```\\s*```text\n(.*?)```")
	var ex [][2]string
	for _, m := range re.FindAllStringSubmatch(section, -1) {
		ex = append(ex, [2]string{m[1], m[2]})
	}
	if n := strings.Count(section, "```sh"); n != len(ex) || n == 0 {
		t.Fatalf("%d sh blocks in the README's FUSE section, %d with an output block", n, len(ex))
	}
	return ex
}

// TestREADMEShellExamples runs every FUSE example of the README through
// /bin/sh and bash against a real kmsd and mount, and compares its output
// with the README's.
func TestREADMEShellExamples(t *testing.T) {
	t.Parallel()
	d, mnt := startMounted(t)
	for i, ex := range readmeExamples(t) {
		for _, sh := range []string{"/bin/sh", "/bin/bash"} {
			work := t.TempDir()
			cmd := exec.Command(sh, "-c", ex[0])
			cmd.Dir = work
			cmd.Env = []string{"MNT=" + mnt, "KMSD_SOCKET=" + d.Sock, "PATH=" + testkit.BinDir(t) + ":/usr/bin:/bin"}
			var out, errb bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &errb
			if err := cmd.Run(); err != nil {
				t.Errorf("example %d with %s: %v\n%s\n--- stderr:\n%s", i+1, sh, err, ex[0], errb.String())
				continue
			}
			if got := out.String(); got != ex[1] {
				t.Errorf("example %d with %s printed\n%s\nthe README says\n%s\n--- script:\n%s--- stderr:\n%s", i+1, sh, got, ex[1], ex[0], errb.String())
			}
		}
	}
	if !strings.Contains(d.Log.String(), "InvalidCiphertextException") && !strings.Contains(d.Log.String(), "fuse request refused") {
		t.Errorf("the daemon's log does not say why requests were refused:\n%s", d.Log)
	}
}

// TestFUSESIGTERMWithBusyHandle: a process holds a handle open, kmsd gets
// SIGTERM, and it still unmounts (lazily) and exits; the holder's
// descriptor stops working.
func TestFUSESIGTERMWithBusyHandle(t *testing.T) {
	t.Parallel()
	d, mnt := startMounted(t)
	holder := exec.Command("/bin/sh", "-c", `exec 3<>"$1/keys/app/encrypt"; printf held >&3; echo open; exec sleep 60`, "sh", mnt)
	stdout, err := holder.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { holder.Process.Kill(); holder.Wait() })
	line := make([]byte, 5)
	if _, err := stdout.Read(line); err != nil || string(line) != "open\n" {
		t.Fatalf("holder: %q %v", line, err)
	}
	d.Signal(syscall.SIGTERM)
	if err := d.Wait(30 * time.Second); err != nil {
		t.Fatalf("kmsd with a busy handle, on SIGTERM: %v\n%s", err, d.Log)
	}
	if isMounted(mnt) {
		t.Errorf("%s is still mounted", mnt)
	}
	if !strings.Contains(d.Log.String(), "detaching it lazily") {
		t.Errorf("the log does not say the mount was detached lazily:\n%s", d.Log)
	}
}

// TestFUSEStaleMountAfterKill: after kill -9 the mount point is dead
// ("transport endpoint is not connected"); the next kmsd detaches it and
// mounts again.
func TestFUSEStaleMountAfterKill(t *testing.T) {
	t.Parallel()
	d, mnt := startMounted(t)
	d.Kill()
	if _, err := os.Stat(mnt); !errorsIsENOTCONN(err) {
		t.Fatalf("stat after kill -9: %v, want ENOTCONN", err)
	}
	d2 := testkit.Start(t, testkit.Config{Dir: d.Dir, Args: []string{"--mount", mnt}})
	if _, err := os.Stat(filepath.Join(mnt, "keys", "app", "encrypt")); err != nil {
		t.Fatalf("the mount after the restart: %v", err)
	}
	if !strings.Contains(d2.Log.String(), "detaching a stale mount") {
		t.Errorf("the log does not mention the stale mount:\n%s", d2.Log)
	}
	d2.Signal(syscall.SIGTERM)
	if err := d2.Wait(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	if isMounted(mnt) {
		t.Errorf("%s is still mounted after SIGTERM", mnt)
	}
}

func errorsIsENOTCONN(err error) bool {
	pe, ok := err.(*os.PathError)
	return ok && pe.Err == syscall.ENOTCONN
}

// TestMountWithoutFusermount: a user other than root mounts through
// fusermount3; without it, kmsd says what to install instead of exec's
// "no such file", and exits. Where fusermount is installed, kmsd runs in
// a mount namespace of its own with /dev/null (not executable) over it.
func TestMountWithoutFusermount(t *testing.T) {
	t.Parallel()
	testkit.RequireRoot(t)
	var hide []string
	for _, p := range []string{"/bin/fusermount3", "/bin/fusermount", "/usr/bin/fusermount3", "/usr/bin/fusermount"} {
		if _, err := os.Stat(p); err == nil {
			hide = append(hide, p)
		}
	}
	built, _ := testkit.Binaries(t)
	dir := testkit.ShortDir(t)
	if err := os.Chown(dir, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(built) // where nobody may run it
	if err != nil {
		t.Fatal(err)
	}
	kmsd := filepath.Join(dir, "kmsd")
	if err := os.WriteFile(kmsd, b, 0o755); err != nil {
		t.Fatal(err)
	}
	args := []string{kmsd, "--state-dir", filepath.Join(dir, "state"), "--socket", filepath.Join(dir, "kmsd.sock"),
		"--mount", filepath.Join(dir, "fs")}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	if len(hide) > 0 {
		script := ""
		for _, p := range hide {
			script += "mount --bind /dev/null " + p + " && "
		}
		script += `exec setpriv --reuid 65534 --regid 65534 --clear-groups "$@"`
		cmd = exec.Command("unshare", append([]string{"--mount", "--propagation", "private", "sh", "-c", script, "sh"}, args...)...)
	}
	cmd.Env = []string{"PATH=" + t.TempDir() + ":/usr/bin:/bin"}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err == nil {
			t.Fatalf("kmsd mounted without fusermount3:\n%s", &stderr)
		}
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("kmsd still runs without a mount:\n%s", &stderr)
	}
	log := stderr.String()
	if !strings.Contains(log, "fusermount3, which is not installed") || !strings.Contains(log, "apt-get install fuse3") {
		t.Errorf("kmsd does not say to install fuse3:\n%s", log)
	}
	if strings.Contains(log, "exec:") {
		t.Errorf("kmsd shows exec's error, not its own:\n%s", log)
	}
}
