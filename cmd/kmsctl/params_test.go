package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"kmsd/wire/api"
)

func TestExpandLists(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"create-grant --operations Encrypt Decrypt --key-id k", "create-grant --operations Encrypt --operations Decrypt --key-id k"},
		{"untag-resource --tag-keys a b c", "untag-resource --tag-keys a --tag-keys b --tag-keys c"},
		{"encrypt --key-id k --plaintext eA==", "encrypt --key-id k --plaintext eA=="},
		{"create-key --tags TagKey=a,TagValue=1 TagKey=b,TagValue=2", "create-key --tags TagKey=a,TagValue=1 --tags TagKey=b,TagValue=2"},
	} {
		if got := strings.Join(expandLists(strings.Fields(c.in)), " "); got != c.want {
			t.Errorf("%q -> %q", c.in, got)
		}
	}
}

func TestParameterForms(t *testing.T) {
	dir := t.TempDir()
	raw := filepath.Join(dir, "raw")
	os.WriteFile(raw, []byte{0, 1, 2, 255}, 0o600)
	if b, err := readBlob("p", "fileb://"+raw); err != nil || !reflect.DeepEqual(b, []byte{0, 1, 2, 255}) {
		t.Fatalf("fileb: %v %v", b, err)
	}
	if b, err := readBlob("p", "AAEC/w=="); err != nil || !reflect.DeepEqual(b, []byte{0, 1, 2, 255}) {
		t.Fatalf("base64: %v %v", b, err)
	}
	if _, err := readBlob("p", "not base64!"); err == nil {
		t.Fatal("bad base64 accepted")
	}
	for in, want := range map[string]map[string]string{
		"a=1,b=2":           {"a": "1", "b": "2"},
		`{"a":"1","b":"x"}`: {"a": "1", "b": "x"},
		"k=":                {"k": ""},
	} {
		got, err := readContext("c", in)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%q: %v %v", in, got, err)
		}
	}
	for _, bad := range []string{"a", "a=1,a=2", "=x", `{"a":1}`} {
		if _, err := readContext("c", bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	tags, err := readTags([]string{"TagKey=a,TagValue=1", `[{"TagKey":"b","TagValue":"2"}]`})
	if err != nil || !reflect.DeepEqual(tags, []api.Tag{{TagKey: "a", TagValue: "1"}, {TagKey: "b", TagValue: "2"}}) {
		t.Fatalf("tags %v %v", tags, err)
	}
	c, err := readConstraints("EncryptionContextSubset={a=1,b=2},EncryptionContextEquals={c=3}")
	if err != nil || c.EncryptionContextSubset["b"] != "2" || c.EncryptionContextEquals["c"] != "3" {
		t.Fatalf("constraints %+v %v", c, err)
	}
	if c, err = readConstraints(`{"EncryptionContextEquals":{"x":"y"}}`); err != nil || c.EncryptionContextEquals["x"] != "y" {
		t.Fatalf("json constraints %+v %v", c, err)
	}
	if _, err = readConstraints("Other={a=1}"); err == nil {
		t.Fatal("unknown constraint accepted")
	}
}
