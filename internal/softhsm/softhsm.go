// Package softhsm makes a SoftHSM2 token for tests of kmsd's custom key
// stores. It depends on nothing of kmsd's, so that any package's tests can
// use it (testkit imports the daemon).
package softhsm

import (
	"fmt"
	"kmsd/internal/ci"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// Token is a fresh SoftHSM2 token for a test, in a directory of its own
// (SOFTHSM2_CONF is set for the test and the processes it starts).
type Token struct {
	Module  string // the PKCS#11 module
	Label   string
	Serial  string
	PIN     string
	PINFile string // the PIN, mode 0600, as a key store takes it
	conf    string // SOFTHSM2_CONF
}

// softhsmModules are where distributions put SoftHSM2's module.
var softhsmModules = []string{"/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so", "/usr/lib64/pkcs11/libsofthsm2.so"}

// Require returns the test binary's SoftHSM2 token, made on first
// use in a directory of its own (a PKCS#11 module reads its configuration
// once per process, so the tests of a process share one token; keys are
// named by kmsd's key ids, which do not collide), or skips the test when
// SoftHSM2 is not installed (Debian: softhsm2); in CI its absence fails
// it instead.
func Require(t testing.TB) *Token {
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
	if why != "" {
		ci.Skip(t, why)
	}
	softhsmOnce.Do(func() { softhsm, softhsmErr = newSoftHSM(module, "kmsd-test") })
	if softhsmErr != nil {
		t.Fatal(softhsmErr)
	}
	os.Setenv("SOFTHSM2_CONF", softhsm.conf)
	return softhsm
}

var (
	softhsmOnce sync.Once
	softhsm     *Token
	softhsmErr  error
)

// newSoftHSM makes a token in a new directory (removed when the process
// exits: it is under the system's temporary directory, and small).
func newSoftHSM(module, label string) (*Token, error) {
	dir, err := os.MkdirTemp("", "kmsd-softhsm")
	if err != nil {
		return nil, err
	}
	os.MkdirAll(filepath.Join(dir, "tokens"), 0o700)
	conf := filepath.Join(dir, "softhsm2.conf")
	os.WriteFile(conf, []byte("directories.tokendir = "+filepath.Join(dir, "tokens")+"\nobjectstore.backend = file\nlog.level = ERROR\n"), 0o600)
	h := &Token{Module: module, Label: label, PIN: "1234-test", PINFile: filepath.Join(dir, "pin"), conf: conf}
	init := exec.Command("softhsm2-util", "--init-token", "--free", "--label", label, "--pin", h.PIN, "--so-pin", "5678-test")
	init.Env = append(os.Environ(), "SOFTHSM2_CONF="+conf)
	if out, err := init.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("softhsm2-util --init-token: %v\n%s", err, out)
	}
	show := exec.Command("softhsm2-util", "--show-slots")
	show.Env = init.Env
	out, err := show.Output()
	if err != nil {
		return nil, err
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
		return nil, err
	}
	return h, nil
}
