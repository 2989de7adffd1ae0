package sigv4

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// vector is one of AWS's published examples.
type vector struct {
	Name, Request, Secret, Credential, Service, Signature string
	SignedHeaders                                         string `json:"signed_headers"`
	CanonicalRequestHash                                  string `json:"canonical_request_hash"`
}

func loadVectors(t *testing.T) []vector {
	b, err := os.ReadFile("testdata/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var vs []vector
	if err := json.Unmarshal(b, &vs); err != nil {
		t.Fatal(err)
	}
	return vs
}

// request parses a vector's request and signs it as the vector says.
func (v vector) request(t *testing.T, sig string) (*http.Request, time.Time) {
	r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(v.Request)))
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("Authorization", Algorithm+" Credential="+v.Credential+", SignedHeaders="+v.SignedHeaders+", Signature="+sig)
	now, _ := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	return r, now
}

func (v vector) secrets(id string) ([]byte, bool) {
	return []byte(v.Secret), id == strings.Split(v.Credential, "/")[0]
}

// TestVectors: AWS's own examples verify, and so does nothing else.
func TestVectors(t *testing.T) {
	for _, v := range loadVectors(t) {
		t.Run(v.Name, func(t *testing.T) {
			r, now := v.request(t, v.Signature)
			cred, err := Verify(r, nil, v.Service, now.Add(time.Minute), v.secrets)
			if err != nil {
				t.Fatalf("AWS's example does not verify: %v", err)
			}
			if cred.AccessKeyID != strings.Split(v.Credential, "/")[0] || cred.Region != "us-east-1" {
				t.Errorf("credential %+v", cred)
			}
			if v.CanonicalRequestHash != "" {
				if got := hashHex([]byte(CanonicalRequest(r, strings.Split(v.SignedHeaders, ";"), hashHex(nil)))); got != v.CanonicalRequestHash {
					t.Errorf("canonical request hash %s, want %s", got, v.CanonicalRequestHash)
				}
			}
			// One bit off in the signature, the secret or the body fails.
			b, _ := hex.DecodeString(v.Signature)
			b[len(b)-1] ^= 1
			r, _ = v.request(t, hex.EncodeToString(b))
			if _, err := Verify(r, nil, v.Service, now, v.secrets); err == nil || err.Code != CodeInvalidSignature {
				t.Errorf("a flipped signature: %v", err)
			}
			r, _ = v.request(t, v.Signature)
			other := v
			other.Secret = v.Secret[:len(v.Secret)-1] + "X"
			if _, err := Verify(r, nil, v.Service, now, other.secrets); err == nil || err.Code != CodeInvalidSignature {
				t.Errorf("another secret: %v", err)
			}
			if _, err := Verify(r, []byte("x"), v.Service, now, v.secrets); err == nil {
				t.Errorf("another body verified")
			}
		})
	}
}

// TestRefusals: each way a request fails, with AWS's code.
func TestRefusals(t *testing.T) {
	v := loadVectors(t)[0]
	cases := []struct {
		name, code string
		edit       func(r *http.Request) (time.Duration, string)
	}{
		{"unsigned", CodeMissingAuthenticationToken, func(r *http.Request) (time.Duration, string) { r.Header.Del("Authorization"); return 0, v.Service }},
		{"another algorithm", CodeIncompleteSignature, func(r *http.Request) (time.Duration, string) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), Algorithm, "AWS4-HMAC-SHA1", 1))
			return 0, v.Service
		}},
		{"no signature", CodeIncompleteSignature, func(r *http.Request) (time.Duration, string) {
			r.Header.Set("Authorization", Algorithm+" Credential="+v.Credential+", SignedHeaders=host;x-amz-date")
			return 0, v.Service
		}},
		{"host not signed", CodeIncompleteSignature, func(r *http.Request) (time.Duration, string) {
			r.Header.Set("Authorization", Algorithm+" Credential="+v.Credential+", SignedHeaders=x-amz-date, Signature="+v.Signature)
			return 0, v.Service
		}},
		{"no date", CodeIncompleteSignature, func(r *http.Request) (time.Duration, string) { r.Header.Del("X-Amz-Date"); return 0, v.Service }},
		{"unknown access key", CodeUnrecognizedClient, func(r *http.Request) (time.Duration, string) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "AKIDEXAMPLE", "AKIDOTHER", 1))
			return 0, v.Service
		}},
		{"a session token", CodeUnrecognizedClient, func(r *http.Request) (time.Duration, string) {
			r.Header.Set("X-Amz-Security-Token", "t")
			return 0, v.Service
		}},
		{"six minutes late", CodeInvalidSignature, func(*http.Request) (time.Duration, string) { return 6 * time.Minute, v.Service }},
		{"six minutes early", CodeInvalidSignature, func(*http.Request) (time.Duration, string) { return -6 * time.Minute, v.Service }},
		{"another service", CodeInvalidSignature, func(*http.Request) (time.Duration, string) { return 0, "kms" }},
		{"a wrong payload hash", CodeInvalidSignature, func(r *http.Request) (time.Duration, string) {
			r.Header.Set("X-Amz-Content-Sha256", strings.Repeat("0", 64))
			return 0, v.Service
		}},
	}
	for _, tc := range cases {
		r, now := v.request(t, v.Signature)
		skew, service := tc.edit(r)
		if _, err := Verify(r, nil, service, now.Add(skew), v.secrets); err == nil || err.Code != tc.code || err.Message == "" {
			t.Errorf("%s: %v, want %s", tc.name, err, tc.code)
		}
	}
	r, now := v.request(t, v.Signature)
	if _, err := Verify(r, nil, v.Service, now.Add(4*time.Minute), v.secrets); err != nil {
		t.Errorf("four minutes late is within the skew allowed: %v", err)
	}
}

// FuzzVerify: no Authorization header, date or body makes Verify panic or
// accept a request it cannot have checked.
func FuzzVerify(f *testing.F) {
	f.Add(Algorithm+" Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31", "20150830T123600Z", []byte(nil))
	f.Add(Algorithm+" Credential=/////, SignedHeaders=;, Signature=zz", "2015", []byte("{}"))
	f.Add("AWS4-HMAC-SHA256", "", []byte("x"))
	f.Fuzz(func(t *testing.T, auth, date string, body []byte) {
		r, _ := http.NewRequest("POST", "http://example.amazonaws.com/", nil)
		r.Header.Set("Authorization", auth)
		r.Header.Set("X-Amz-Date", date)
		now, _ := time.Parse("20060102T150405Z", "20150830T123600Z")
		secrets := func(string) ([]byte, bool) { return []byte("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"), true }
		if _, err := Verify(r, body, "service", now, secrets); err == nil {
			// Only a signature made with the secret may pass.
			cred, _, sig, _ := parseAuthorization(auth)
			signed := strings.Split(strings.Split(strings.Split(auth, "SignedHeaders=")[1], ",")[0], ";")
			want := Sign([]byte("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"), cred, StringToSign(date, cred, CanonicalRequest(r, signed, hashHex(body))))
			if sig != hex.EncodeToString(want) {
				t.Fatalf("accepted %q with signature %s", auth, sig)
			}
		}
	})
}

// TestCheckHeaderBeforeTheBody: what CheckHeader refuses, Verify refuses
// too, and a request SignRequest signed passes both, the header check
// with no body read.
func TestCheckHeaderBeforeTheBody(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	secret := []byte("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
	body := []byte(`{"KeyId":"alias/x"}`)
	newReq := func() *http.Request {
		r, _ := http.NewRequest("POST", "http://127.0.0.1:1/", nil)
		r.Header.Set("Content-Type", "application/x-amz-json-1.1")
		r.Header.Set("X-Amz-Target", "TrentService.DescribeKey")
		SignRequest(r, body, "AKIDKMSD", secret, "local", "kms", now)
		return r
	}
	known := func(id string) bool { return id == "AKIDKMSD" }
	secrets := func(id string) ([]byte, bool) { return secret, id == "AKIDKMSD" }
	r := newReq()
	if c, err := CheckHeader(r, "kms", now, known); err != nil || c.AccessKeyID != "AKIDKMSD" {
		t.Fatalf("CheckHeader: %v %v", c, err)
	}
	if _, err := Verify(r, body, "kms", now, secrets); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if _, err := Verify(r, []byte(`{"KeyId":"alias/y"}`), "kms", now, secrets); err == nil || err.Code != CodeInvalidSignature {
		t.Fatalf("another body: %v", err)
	}
	r = newReq()
	r.Header.Set("X-Amz-Target", "TrentService.DisableKey")
	if _, err := Verify(r, body, "kms", now, secrets); err == nil {
		t.Fatal("a signed header changed after signing passed")
	}
	for name, edit := range map[string]func(r *http.Request){
		"unsigned":       func(r *http.Request) { r.Header.Del("Authorization") },
		"unknown key":    func(r *http.Request) { SignRequest(r, body, "AKIDOTHER", secret, "local", "kms", now) },
		"late":           func(r *http.Request) { SignRequest(r, body, "AKIDKMSD", secret, "local", "kms", now.Add(-time.Hour)) },
		"other service":  func(r *http.Request) { SignRequest(r, body, "AKIDKMSD", secret, "local", "s3", now) },
		"session tokens": func(r *http.Request) { r.Header.Set("X-Amz-Security-Token", "t") },
	} {
		r := newReq()
		edit(r)
		_, herr := CheckHeader(r, "kms", now, known)
		_, verr := Verify(r, body, "kms", now, secrets)
		if herr == nil || verr == nil {
			t.Errorf("%s: CheckHeader %v, Verify %v; want both refused", name, herr, verr)
		}
	}
}
