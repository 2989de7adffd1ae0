package e2e

import (
	"encoding/json"
	"strings"
	"testing"
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
}
