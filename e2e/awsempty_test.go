package e2e

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"kmsd/daemon/awsapi/sigv4"
)

// TestAWSEndpointListsEmptyLists: as AWS answers them, an empty list is
// in the answer ({"Grants":[],"Truncated":false}), not left out, so that
// SDKs and the aws CLI print it.
func TestAWSEndpointListsEmptyLists(t *testing.T) {
	t.Parallel()
	d := startAWSKMSD(t)
	key := strings.TrimSpace(d.OK(t, "create-key", "--query", "KeyMetadata.KeyId", "--output", "text"))
	hc := &http.Client{Timeout: 10 * time.Second}
	for _, c := range []struct{ target, body, want string }{
		{"ListGrants", `{"KeyId":"` + key + `"}`, `{"Grants":[],"Truncated":false}`},
		{"ListAliases", `{"KeyId":"` + key + `"}`, `{"Aliases":[],"Truncated":false}`},
		{"ListResourceTags", `{"KeyId":"` + key + `"}`, `{"Tags":[],"Truncated":false}`},
		{"ListKeyRotations", `{"KeyId":"` + key + `"}`, `{"Rotations":[],"Truncated":false}`},
		{"ListRetirableGrants", `{"RetiringPrincipal":"uid:4242"}`, `{"Grants":[],"Truncated":false}`},
	} {
		r, _ := http.NewRequest("POST", "http://"+d.Addr+"/", strings.NewReader(c.body))
		r.Header.Set("X-Amz-Target", "TrentService."+c.target)
		r.Header.Set("Content-Type", "application/x-amz-json-1.1")
		sigv4.SignRequest(r, []byte(c.body), d.AccessKeyID, []byte(d.SecretAccessKey), "local", "kms", time.Now())
		resp, err := hc.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(b) != c.want {
			t.Errorf("%s: %d %s, want %s", c.target, resp.StatusCode, b, c.want)
		}
	}
}
