package e2e

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"kmsd/daemon/awsapi/sigv4"
	"kmsd/wire/api"
)

// TestContextIsTextOrRefused: an encryption context is the text the
// caller gave, or it is refused: bytes that are not UTF-8, or a JSON
// escape of half a surrogate pair, which a decoder would read as U+FFFD,
// so that app=\xff\xfe and app=\xfe\xff became one context and decrypted
// each other's ciphertexts. kmsctl (arguments, files, JSON) refuses them
// as usage errors (252), the socket and the AWS endpoint as
// ValidationException; whole surrogate pairs and U+FFFD itself are text.
func TestContextIsTextOrRefused(t *testing.T) {
	t.Parallel()
	d := startAWSKMSD(t)
	key := strings.TrimSpace(d.OK(t, "create-key", "--query", "KeyMetadata.KeyId", "--output", "text"))
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return "file://" + p
	}

	t.Run("kmsctl", func(t *testing.T) {
		for _, c := range []struct {
			name, context string
			code          int
		}{
			{"bytes in k=v", "app=\xff\xfe", 252},
			{"bytes in a key", "\xfe\xff=app", 252},
			{"bytes in JSON", "{\"app\":\"\xff\xfe\"}", 252},
			{"half a pair in JSON", `{"app":"\ud800"}`, 252},
			{"bytes in a file", write("ec.txt", "app=\xff\xfe"), 252},
			{"half a pair in a file", write("ec.json", `{"app":"x\udfff"}`), 252},
			{"a whole pair", `{"app":"\ud83d\ude00"}`, 0},
			{"U+FFFD itself", "app=\ufffd", 0},
		} {
			_, stderr, code := d.Kmsctl(t, "encrypt", "--key-id", key, "--plaintext", "aGk=", "--encryption-context", c.context)
			if code != c.code {
				t.Errorf("%s: exit %d, want %d; stderr %s", c.name, code, c.code, stderr)
			}
			if c.code == 252 && !strings.Contains(stderr, "UTF-8") {
				t.Errorf("%s: stderr does not say why: %s", c.name, stderr)
			}
		}
		// --cli-input-json is read the same way
		in := write("in.json", "{\"KeyId\":\""+key+"\",\"Plaintext\":\"aGk=\",\"EncryptionContext\":{\"app\":\"\xff\"}}")
		if _, stderr, code := d.Kmsctl(t, "encrypt", "--cli-input-json", in); code != 252 || !strings.Contains(stderr, "UTF-8") {
			t.Errorf("--cli-input-json with bytes: exit %d, %s", code, stderr)
		}
	})

	t.Run("socket", func(t *testing.T) {
		c := d.Dial(t)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, err := c.Encrypt(ctx, &api.EncryptInput{KeyId: key, Plaintext: []byte("hi"), EncryptionContext: map[string]string{"app": "\xff\xfe"}})
		var we *api.Error
		if !errors.As(err, &we) || we.Code != api.CodeValidation || !strings.Contains(we.Message, "UTF-8") {
			t.Errorf("Encrypt with bytes in the context: %v, want ValidationException naming UTF-8", err)
		}
	})

	t.Run("aws endpoint", func(t *testing.T) {
		hc := &http.Client{Timeout: 10 * time.Second}
		for _, c := range []struct {
			name, context string
			ok            bool
		}{
			{"bytes", "\"\xff\xfe\"", false},
			{"half a pair", `"\ud800"`, false},
			{"a lone low half", `"\udc00x"`, false},
			{"a whole pair", `"\ud83d\ude00"`, true},
		} {
			body := `{"KeyId":"` + key + `","Plaintext":"aGk=","EncryptionContext":{"app":` + c.context + `}}`
			r, _ := http.NewRequest("POST", "http://"+d.Addr+"/", strings.NewReader(body))
			r.Header.Set("X-Amz-Target", "TrentService.Encrypt")
			r.Header.Set("Content-Type", "application/x-amz-json-1.1")
			sigv4.SignRequest(r, []byte(body), d.AccessKeyID, []byte(d.SecretAccessKey), "local", "kms", time.Now())
			resp, err := hc.Do(r)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			switch {
			case c.ok && resp.StatusCode != 200:
				t.Errorf("%s: %d %s", c.name, resp.StatusCode, b)
			case !c.ok && (resp.StatusCode != 400 || !strings.Contains(string(b), "ValidationException") || !strings.Contains(string(b), "UTF-8")):
				t.Errorf("%s: %d %s, want 400 ValidationException naming UTF-8", c.name, resp.StatusCode, b)
			}
		}
	})
}
