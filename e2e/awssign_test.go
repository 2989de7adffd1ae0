package e2e

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"kmsd/daemon/awsapi/sigv4"
)

// TestAWSSignaturesBindTheOperation: on the AWS endpoint over TCP, a
// signature must cover X-Amz-Target and Content-Type (else DescribeKey,
// signed, could be sent as DisableKey: refused), and a signed request
// that changes state is served once: the same bytes again are refused
// ThrottlingException, while a read is served again and the same call,
// signed afresh, is served.
func TestAWSSignaturesBindTheOperation(t *testing.T) {
	t.Parallel()
	d := startAWSKMSD(t)
	key := strings.TrimSpace(d.OK(t, "create-key", "--query", "KeyMetadata.KeyId", "--output", "text"))
	hc := &http.Client{Timeout: 10 * time.Second}
	type signed struct {
		body []byte
		hdr  http.Header
	}
	at := time.Now()
	sign := func(target, body string, headers ...string) signed {
		r, _ := http.NewRequest("POST", "http://"+d.Addr+"/", strings.NewReader(body))
		for _, h := range headers {
			switch h {
			case "target":
				r.Header.Set("X-Amz-Target", "TrentService."+target)
			case "type":
				r.Header.Set("Content-Type", "application/x-amz-json-1.1")
			}
		}
		sigv4.SignRequest(r, []byte(body), d.AccessKeyID, []byte(d.SecretAccessKey), "local", "kms", at)
		r.Header.Set("X-Amz-Target", "TrentService."+target) // what is sent, signed or not
		r.Header.Set("Content-Type", "application/x-amz-json-1.1")
		return signed{[]byte(body), r.Header.Clone()}
	}
	send := func(s signed, target string) (int, string) {
		r, _ := http.NewRequest("POST", "http://"+d.Addr+"/", bytes.NewReader(s.body))
		r.Header = s.hdr.Clone()
		r.Header.Set("X-Amz-Target", "TrentService."+target)
		resp, err := hc.Do(r)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	keyBody := `{"KeyId":"` + key + `"}`

	// the target not signed: refused, whatever it names
	unsigned := sign("DescribeKey", keyBody, "type")
	if code, body := send(unsigned, "DisableKey"); code == 200 || !strings.Contains(body, "IncompleteSignatureException") {
		t.Errorf("a target the signature does not cover: %d %s", code, body)
	}
	if st := d.OK(t, "describe-key", "--key-id", key, "--query", "KeyMetadata.Enabled", "--output", "text"); strings.TrimSpace(st) != "True" {
		t.Errorf("the key was disabled through a swapped target: %s", st)
	}
	// signed, the target cannot be swapped
	describe := sign("DescribeKey", keyBody, "target", "type")
	if code, body := send(describe, "DisableKey"); code == 200 || !strings.Contains(body, "InvalidSignatureException") {
		t.Errorf("a swapped target under a signature: %d %s", code, body)
	}
	// a read is served again; a change once
	for range 2 {
		if code, body := send(describe, "DescribeKey"); code != 200 {
			t.Errorf("DescribeKey again: %d %s", code, body)
		}
	}
	disable := sign("DisableKey", keyBody, "target", "type")
	if code, body := send(disable, "DisableKey"); code != 200 {
		t.Fatalf("DisableKey: %d %s", code, body)
	}
	d.OK(t, "enable-key", "--key-id", key)
	if code, body := send(disable, "DisableKey"); code == 200 || !strings.Contains(body, "ThrottlingException") {
		t.Errorf("DisableKey replayed: %d %s", code, body)
	}
	if st := d.OK(t, "describe-key", "--key-id", key, "--query", "KeyMetadata.Enabled", "--output", "text"); strings.TrimSpace(st) != "True" {
		t.Errorf("the replay disabled the key: %s", st)
	}
	at = at.Add(2 * time.Second) // another date: a fresh signature, as a client's retry makes
	if code, body := send(sign("DisableKey", keyBody, "target", "type"), "DisableKey"); code != 200 {
		t.Errorf("DisableKey signed afresh: %d %s", code, body)
	}
}
