package e2e

import (
	"kmsd/internal/testkit"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSocketActivationAndNotify runs kmsd as systemd would: with its
// listening socket passed as fd 3 named "api" and a NOTIFY_SOCKET. kmsd
// serves on the passed socket, says READY=1 once it does, and STOPPING=1
// on SIGTERM; a socket under another name is refused at start.
func TestSocketActivationAndNotify(t *testing.T) {
	t.Parallel()
	dir := testkit.ShortDir(t)
	kmsd, _ := testkit.Binaries(t)
	sock := filepath.Join(dir, "api.sock")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	lf, err := ln.File()
	if err != nil {
		t.Fatal(err)
	}
	notifyPath := filepath.Join(dir, "notify")
	nc, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: notifyPath, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	start := func(fdname string) *exec.Cmd {
		// LISTEN_PID must be kmsd's own pid: the shell's, which exec keeps.
		cmd := exec.Command("/bin/sh", "-c", `LISTEN_PID=$$ LISTEN_FDS=1 LISTEN_FDNAMES=`+fdname+` exec "$0" "$@"`,
			kmsd, "--state-dir", filepath.Join(dir, "state"), "--socket", filepath.Join(dir, "unused.sock"))
		cmd.ExtraFiles = []*os.File{lf}
		cmd.Env = append(os.Environ(), "NOTIFY_SOCKET="+notifyPath)
		return cmd
	}
	recv := func() string {
		nc.SetReadDeadline(time.Now().Add(20 * time.Second)) // a guard against a hang, not a timing assertion
		buf := make([]byte, 4096)
		n, err := nc.Read(buf)
		if err != nil {
			t.Fatalf("no notification from kmsd: %v", err)
		}
		return string(buf[:n])
	}

	bad := start("metrics")
	out, err := bad.CombinedOutput()
	if err == nil || !strings.Contains(string(out), `named "api"`) {
		t.Errorf("kmsd took a socket not named api: %v\n%s", err, out)
	}

	cmd := start("api")
	var log testkit.Log
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() { cmd.Process.Kill(); <-done })
	if got := recv(); !strings.HasPrefix(got, "READY=1\n") || !strings.Contains(got, sock) {
		t.Fatalf("first notification %q, want READY=1 naming %s\n%s", got, sock, log.String())
	}
	if out := kmsctlOn(t, sock, "create-key", "--query", "KeyMetadata.KeyState", "--output", "text"); strings.TrimSpace(out) != "Enabled" {
		t.Errorf("create-key on the activated socket: %q", out)
	}
	if _, err := os.Stat(filepath.Join(dir, "unused.sock")); err == nil {
		t.Error("kmsd made its own socket although systemd passed one")
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if got := recv(); got != "STOPPING=1" {
		t.Errorf("notification on SIGTERM %q, want STOPPING=1", got)
	}
	if err := <-done; err != nil {
		t.Errorf("kmsd exited with %v\n%s", err, log.String())
	}
	done <- nil
}

// kmsctlOn runs kmsctl against the kmsd serving sock and returns what it
// printed; it must succeed.
func kmsctlOn(t *testing.T, sock string, args ...string) string {
	t.Helper()
	_, kmsctl := testkit.Binaries(t)
	cmd := exec.Command(kmsctl, args...)
	cmd.Env = append(os.Environ(), "KMSD_SOCKET="+sock)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("kmsctl %v: %v", args, err)
	}
	return string(out)
}
