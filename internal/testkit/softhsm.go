package testkit

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// SoftHSM is a fresh SoftHSM2 token for a test, in a directory of its own
// (SOFTHSM2_CONF is set for the test and the processes it starts).
type SoftHSM struct {
	Module  string // the PKCS#11 module
	Label   string
	Serial  string
	PIN     string
	PINFile string // the PIN, mode 0600, as a key store takes it
}

// softhsmModules are where distributions put SoftHSM2's module.
var softhsmModules = []string{"/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so", "/usr/lib64/pkcs11/libsofthsm2.so"}

// RequireSoftHSM makes a token labelled label, or skips the test when
// SoftHSM2 is not installed (Debian: softhsm2); with KMSD_REQUIRE_SOFTHSM=1
// (CI) its absence fails it instead.
func RequireSoftHSM(t testing.TB, label string) *SoftHSM {
	t.Helper()
	module := ""
	for _, m := range softhsmModules {
		if _, err := os.Stat(m); err == nil {
			module = m
			break
		}
	}
	why := ""
	if _, err := exec.LookPath("softhsm2-util"); err != nil || module == "" {
		why = "SoftHSM2 is not installed (Debian: apt-get install softhsm2)"
	}
	require(t, why, "KMSD_REQUIRE_SOFTHSM")
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "tokens"), 0o700)
	conf := filepath.Join(dir, "softhsm2.conf")
	os.WriteFile(conf, []byte("directories.tokendir = "+filepath.Join(dir, "tokens")+"\nobjectstore.backend = file\nlog.level = ERROR\n"), 0o600)
	t.Setenv("SOFTHSM2_CONF", conf)
	h := &SoftHSM{Module: module, Label: label, PIN: "1234-test", PINFile: filepath.Join(dir, "pin")}
	if out, err := exec.Command("softhsm2-util", "--init-token", "--free", "--label", label, "--pin", h.PIN, "--so-pin", "5678-test").CombinedOutput(); err != nil {
		t.Fatalf("softhsm2-util --init-token: %v\n%s", err, out)
	}
	out, err := exec.Command("softhsm2-util", "--show-slots").Output()
	if err != nil {
		t.Fatal(err)
	}
	// The serial of the token labelled label, from --show-slots.
	var serial string
	for _, block := range strings.Split(string(out), "Slot ") {
		if strings.Contains(block, "Label:            "+label+"\n") || strings.Contains(block, "Label:            "+label+" ") {
			for _, l := range strings.Split(block, "\n") {
				if v, ok := strings.CutPrefix(strings.TrimSpace(l), "Serial number:"); ok && strings.TrimSpace(v) != "" {
					serial = strings.TrimSpace(v)
				}
			}
		}
	}
	h.Serial = serial
	if err := os.WriteFile(h.PINFile, []byte(h.PIN+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return h
}
