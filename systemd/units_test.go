package systemd

import (
	"bytes"
	"kmsd/internal/testkit"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestMain(m *testing.M) { os.Exit(testkit.Main(m)) }

// TestUnitsVerify runs systemd-analyze verify on both units, with
// ExecStart pointing at a freshly built kmsd, and fails on any output.
func TestUnitsVerify(t *testing.T) {
	analyze := testkit.RequireSystemd(t)
	dir := t.TempDir()
	kmsd, _ := testkit.Binaries(t)
	svc, err := os.ReadFile("kmsd.service")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(svc, []byte("ExecStart=/usr/local/bin/kmsd ")) {
		t.Fatal("kmsd.service does not start /usr/local/bin/kmsd")
	}
	svc = bytes.ReplaceAll(svc, []byte("/usr/local/bin/kmsd"), []byte(kmsd))
	sock, err := os.ReadFile("kmsd.socket")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "kmsd.service"), svc, 0o644)
	os.WriteFile(filepath.Join(dir, "kmsd.socket"), sock, 0o644)
	cmd := exec.Command(analyze, "verify", "--man=no", "./kmsd.socket", "./kmsd.service")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) != 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// TestUnitsKeepTheMountVisible: a directive that gives the service a
// mount namespace of its own would hide the FUSE view from the host.
func TestUnitsKeepTheMountVisible(t *testing.T) {
	svc, err := os.ReadFile("kmsd.service")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(svc), "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		for _, d := range []string{"ProtectSystem=", "ProtectHome=", "PrivateTmp=", "PrivateDevices=", "PrivateMounts=",
			"PrivateUsers=", "ReadOnlyPaths=", "ReadWritePaths=", "InaccessiblePaths=", "BindPaths=", "TemporaryFileSystem=",
			"ProtectKernelTunables=", "ProtectKernelModules=", "ProtectKernelLogs=", "ProtectControlGroups=", "ProtectProc=",
			"ProcSubset=", "RootDirectory=", "RootImage=", "MountFlags=", "RuntimeDirectory="} {
			if strings.HasPrefix(line, d) {
				t.Errorf("kmsd.service sets %s, which hides the FUSE mount (or deletes the socket's directory)", line)
			}
		}
	}
	sock, err := os.ReadFile("kmsd.socket")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(sock, []byte("\nFileDescriptorName=api\n")) {
		t.Error("kmsd.socket must name its socket api: kmsd refuses any other")
	}
	if !bytes.Contains(svc, []byte("\nType=notify\n")) || !bytes.Contains(svc, []byte("\nDeviceAllow=/dev/fuse rw\n")) {
		t.Error("kmsd.service must be Type=notify and allow /dev/fuse")
	}
	if bytes.Contains(svc, []byte("\nExecStartPre=")) {
		t.Error("kmsd.service has an ExecStartPre=: one that touches the mount point fails on the dead mount a crash leaves, and stops the restart")
	}
	if !bytes.Contains(svc, []byte("\nWatchdogSec=")) || !bytes.Contains(svc, []byte("\nRestart=on-failure\n")) {
		t.Error("kmsd.service must set WatchdogSec= and restart kmsd on failure (a watchdog timeout is one)")
	}
}
