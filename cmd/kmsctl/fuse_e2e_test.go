package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// startMounted runs the real kmsd with --mount and makes alias/app.
func startMounted(t *testing.T) (*daemon, string) {
	t.Helper()
	skipWithoutFUSE(t)
	dir := shortTemp(t)
	mnt := filepath.Join(dir, "fs")
	if err := os.Mkdir(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	d := startDaemon(t, dir, "--mount", mnt)
	t.Cleanup(func() {
		if isMounted(mnt) {
			syscall.Unmount(mnt, syscall.MNT_DETACH)
		}
	})
	waitFor(t, func() bool { return isMounted(mnt) }, "the mount")
	key := strings.TrimSpace(d.ok("create-key", "--query", "KeyMetadata.KeyId", "--output", "text"))
	d.ok("create-alias", "--alias-name", "alias/app", "--target-key-id", key)
	return d, mnt
}

func isMounted(dir string) bool {
	b, _ := os.ReadFile("/proc/self/mountinfo")
	return bytes.Contains(b, []byte(" "+dir+" "))
}

// waitFor polls cond; the deadline only keeps a broken build from hanging.
func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s never came", what)
		}
	}
}

// readmeExamples returns the FUSE examples of the README: each sh block
// between the markers, with the text block that follows it.
func readmeExamples(t *testing.T) [][2]string {
	b, err := os.ReadFile("../../README.md")
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
	d, mnt := startMounted(t)
	for i, ex := range readmeExamples(t) {
		for _, sh := range []string{"/bin/sh", "/bin/bash"} {
			work := t.TempDir()
			cmd := exec.Command(sh, "-c", ex[0])
			cmd.Dir = work
			cmd.Env = []string{"MNT=" + mnt, "KMSD_SOCKET=" + d.sock, "PATH=" + bin + ":/usr/bin:/bin"}
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
	if !strings.Contains(d.log.String(), "InvalidCiphertextException") && !strings.Contains(d.log.String(), "fuse request refused") {
		t.Errorf("the daemon's log does not say why requests were refused:\n%s", d.log)
	}
}

// TestFUSESIGTERMWithBusyHandle: a process holds a handle open, kmsd gets
// SIGTERM, and it still unmounts (lazily) and exits; the holder's
// descriptor stops working.
func TestFUSESIGTERMWithBusyHandle(t *testing.T) {
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
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-d.done:
		if err != nil {
			t.Fatalf("kmsd exited with %v\n%s", err, d.log)
		}
		d.done <- err // for the cleanup
	case <-time.After(30 * time.Second):
		t.Fatalf("kmsd did not exit with a busy handle\n%s", d.log)
	}
	if isMounted(mnt) {
		t.Errorf("%s is still mounted", mnt)
	}
	if !strings.Contains(d.log.String(), "detaching it lazily") {
		t.Errorf("the log does not say the mount was detached lazily:\n%s", d.log)
	}
}

// TestFUSEStaleMountAfterKill: after kill -9 the mount point is dead
// ("transport endpoint is not connected"); the next kmsd detaches it and
// mounts again.
func TestFUSEStaleMountAfterKill(t *testing.T) {
	d, mnt := startMounted(t)
	d.cmd.Process.Kill()
	d.done <- <-d.done
	if _, err := os.Stat(mnt); !errorsIsENOTCONN(err) {
		t.Fatalf("stat after kill -9: %v, want ENOTCONN", err)
	}
	d2 := startDaemon(t, d.dir, "--mount", mnt)
	waitFor(t, func() bool {
		_, err := os.Stat(filepath.Join(mnt, "keys", "app", "encrypt"))
		return err == nil
	}, "the mount after the restart")
	if !strings.Contains(d2.log.String(), "detaching a stale mount") {
		t.Errorf("the log does not mention the stale mount:\n%s", d2.log)
	}
	d2.cmd.Process.Signal(syscall.SIGTERM)
	d2.done <- <-d2.done
	if isMounted(mnt) {
		t.Errorf("%s is still mounted after SIGTERM", mnt)
	}
}

func errorsIsENOTCONN(err error) bool {
	pe, ok := err.(*os.PathError)
	return ok && pe.Err == syscall.ENOTCONN
}

// skipWithoutFUSE skips a test that mounts unless kmsd can mount here
// (root and /dev/fuse); with KMSD_REQUIRE_FUSE=1, as CI sets it, it fails
// instead, so the FUSE tests cannot silently stop running.
func skipWithoutFUSE(t *testing.T) {
	t.Helper()
	why := ""
	if os.Geteuid() != 0 {
		why = "mounting FUSE directly needs root"
	} else if _, err := os.Stat("/dev/fuse"); err != nil {
		why = "no /dev/fuse"
	}
	if why == "" {
		return
	}
	if os.Getenv("KMSD_REQUIRE_FUSE") == "1" {
		t.Fatal(why + ", and KMSD_REQUIRE_FUSE=1")
	}
	t.Skip(why)
}
