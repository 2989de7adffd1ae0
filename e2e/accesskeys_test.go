package e2e

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"kmsd/internal/testkit"
)

// TestAccessKeyOwners: a user issues access keys for itself only, sees
// and deletes its own only; root issues them for anyone and sees all.
func TestAccessKeyOwners(t *testing.T) {
	t.Parallel()
	d := multiUserDaemon(t)
	nobody := runAs{uid: 65534, gid: 65534, cgroupFD: -1}
	issue := func(who runAs, args ...string) (string, string, int) {
		return kmsctlAs(t, d, who, append([]string{"create-access-key"}, args...)...)
	}
	out, errs, code := issue(nobody)
	var own struct {
		AccessKey struct{ UserName, AccessKeyId, SecretAccessKey string }
	}
	if code != 0 || json.Unmarshal([]byte(out), &own) != nil || own.AccessKey.UserName != "uid:65534" {
		t.Fatalf("nobody issuing its own key: exit %d %s %s", code, out, errs)
	}
	if _, errs, code := issue(nobody, "--principal", "uid:0"); code != 254 || !strings.Contains(errs, "AccessDeniedException") {
		t.Errorf("nobody issuing a key for root: exit %d %s", code, errs)
	}
	if _, errs, code := issue(nobody, "--principal", "group:adm"); code != 254 || !strings.Contains(errs, "ValidationException") {
		t.Errorf("a principal that is not uid:N: exit %d %s", code, errs)
	}
	rootKey := d.OK(t, "create-access-key", "--principal", "uid:1234")
	var rk struct{ AccessKey struct{ AccessKeyId string } }
	json.Unmarshal([]byte(rootKey), &rk)

	out, _, _ = kmsctlAs(t, d, nobody, "list-access-keys")
	if !strings.Contains(out, own.AccessKey.AccessKeyId) || strings.Contains(out, rk.AccessKey.AccessKeyId) {
		t.Errorf("nobody's list:\n%s", out)
	}
	if all := d.OK(t, "list-access-keys"); !strings.Contains(all, own.AccessKey.AccessKeyId) || !strings.Contains(all, rk.AccessKey.AccessKeyId) {
		t.Errorf("root's list:\n%s", all)
	}
	if _, errs, code := kmsctlAs(t, d, nobody, "delete-access-key", "--access-key-id", rk.AccessKey.AccessKeyId); code != 254 || !strings.Contains(errs, "NotFoundException") {
		t.Errorf("nobody deleting another's key: exit %d %s", code, errs)
	}
	if _, errs, code := kmsctlAs(t, d, nobody, "delete-access-key", "--access-key-id", own.AccessKey.AccessKeyId); code != 0 {
		t.Errorf("nobody deleting its own key: exit %d %s", code, errs)
	}
	if all := d.OK(t, "list-access-keys"); strings.Contains(all, own.AccessKey.AccessKeyId) {
		t.Errorf("a deleted key is listed:\n%s", all)
	}
	// one user cannot use up the keys everyone needs: ten each, then no more
	for i := range 10 {
		if _, errs, code := issue(nobody); code != 0 {
			t.Fatalf("nobody's key %d: exit %d %s", i+1, code, errs)
		}
	}
	if _, errs, code := issue(nobody); code != 254 || !strings.Contains(errs, "LimitExceededException") {
		t.Errorf("nobody's eleventh key: exit %d %s", code, errs)
	}
	d.OK(t, "create-access-key") // root's are not counted against nobody's
}

// TestAdminIsNotRoot: a member of kmsd's admin group, through kmsctl on a
// real kmsd, may not issue an access key that acts as root (or as anyone
// else), nor name the PKCS#11 module kmsd loads: either would let the
// admin act as root. Its own key it may issue.
func TestAdminIsNotRoot(t *testing.T) {
	t.Parallel()
	testkit.RequireRoot(t)
	dir := testkit.ShortDir(t)
	for _, p := range []string{dir, testkit.BinDir(t)} {
		if err := os.Chmod(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	d := testkit.Start(t, testkit.Config{Dir: dir, Args: []string{"--socket-mode", "0666", "--admin-group", "4"}})
	admin := runAs{uid: 65534, gid: 65534, groups: []uint32{4}, cgroupFD: -1}
	_, errs, code := kmsctlAs(t, d, admin, "list-access-keys")
	expect(t, "an admin lists access keys", "", errs, code, "")
	for _, p := range []string{"uid:0", "uid:1000"} {
		_, errs, code := kmsctlAs(t, d, admin, "create-access-key", "--principal", p)
		expect(t, "an admin issuing a key for "+p, "", errs, code, "AccessDeniedException")
	}
	out, errs, code := kmsctlAs(t, d, admin, "create-access-key")
	if expect(t, "an admin issuing its own key", out, errs, code, ""); !strings.Contains(out, `"UserName": "uid:65534"`) {
		t.Errorf("the admin's own key:\n%s", out)
	}
	_, errs, code = kmsctlAs(t, d, admin, "create-custom-key-store", "--custom-key-store-name", "x",
		"--pkcs11-module", "/usr/lib/softhsm/libsofthsm2.so", "--token-label", "t", "--key-store-password-file", "/nonexistent/pin")
	expect(t, "an admin naming a module", "", errs, code, "AccessDeniedException")
}
