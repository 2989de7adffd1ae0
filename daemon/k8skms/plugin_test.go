package k8skms

import (
	"strings"
	"testing"
)

func TestKeyID(t *testing.T) {
	arn := "arn:aws:kms:local:000000000000:key/7ed1a1ad-2f24-4685-92d9-49b534c95747"
	a, b := KeyID(arn, "aa11"), KeyID(arn, "aa11")
	if a != b || !strings.HasPrefix(a, "kmsd-") || len(a) != len("kmsd-")+32 {
		t.Fatalf("KeyID not stable or not of its form: %q %q", a, b)
	}
	for _, other := range []string{KeyID(arn, "aa12"), KeyID(arn+"0", "aa11"), KeyID(arn[:len(arn)-1], "7aa11")} {
		if other == a {
			t.Errorf("another key or material has the same key_id %s", a)
		}
	}
}

func TestCheckAnnotations(t *testing.T) {
	for _, c := range []struct {
		a  map[string][]byte
		ok bool
	}{
		{nil, true},
		{map[string][]byte{"kms.kubernetes.io/x": nil}, false}, // a path, not a DNS name
		{map[string][]byte{"version.encryption.example.com": []byte("1")}, true},
		{map[string][]byte{"Upper.example.com": nil}, false},
		{map[string][]byte{"-a.example.com": nil}, false},
		{map[string][]byte{"a..b": nil}, false},
		{map[string][]byte{strings.Repeat("a", 64) + ".com": nil}, false},
		{map[string][]byte{"big.example.com": make([]byte, MaxAnnotations)}, false},
		{map[string][]byte{"fits.example.com": make([]byte, MaxAnnotations-len("fits.example.com"))}, true},
	} {
		if err := checkAnnotations(c.a); (err == nil) != c.ok {
			t.Errorf("checkAnnotations(%d keys) = %v, want ok %v", len(c.a), err, c.ok)
		}
	}
}

func TestRequestUID(t *testing.T) {
	for in, want := range map[string]string{
		"":                       "-",
		"3f1e-uid":               "3f1e-uid",
		"a b\nc\x00":             "a_b_c_",
		strings.Repeat("x", 200): strings.Repeat("x", maxUID),
	} {
		if got := requestUID(in); got != want {
			t.Errorf("requestUID(%q) = %q, want %q", in, got, want)
		}
	}
}
