package awsjson

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCheckText(t *testing.T) {
	for _, c := range []struct {
		doc string
		ok  bool
	}{
		{`{"app":"demo"}`, true},
		{`{"app":"caf\u00e9 é 😀"}`, true},
		{`{"app":"\ud83d\ude00"}`, true},  // a whole pair
		{`{"app":"\\ud800"}`, true},       // an escaped backslash, then text
		{`{"app":"\ufffd"}`, true},        // U+FFFD itself is text
		{"{\"app\":\"\xff\xfe\"}", false}, // bytes that are not UTF-8
		{"{\"app\":\"\xc3\"}", false},     // a character cut short
		{`{"app":"\ud800"}`, false},       // a high half alone
		{`{"app":"\udc00"}`, false},       // a low half alone
		{`{"app":"\ud800\u0041"}`, false}, // a high half before a non-half
		{`{"app":"\ud800\ud800"}`, false}, // two high halves
		{`{"app":"x\ud83d"}`, false},      // at the end
	} {
		err := CheckText([]byte(c.doc))
		if (err == nil) != c.ok {
			t.Errorf("CheckText(%q) = %v, want ok %v", c.doc, err, c.ok)
		}
		if err != nil && !errors.Is(err, ErrNotText) {
			t.Errorf("CheckText(%q) = %v, not ErrNotText", c.doc, err)
		}
	}
}

// FuzzCheckText: a document CheckText accepts decodes without replacing
// anything, so its strings are exactly what the caller wrote.
func FuzzCheckText(f *testing.F) {
	for _, s := range []string{`{"a":"b"}`, `{"a":"\ud800"}`, "{\"a\":\"\xff\"}", `{"a":"\ud83d\ude00"}`, `"\\u"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		if CheckText(doc) != nil {
			return
		}
		var m map[string]string
		if json.Unmarshal(doc, &m) != nil {
			return
		}
		for k, v := range m {
			if strings.ContainsRune(k+v, utf8.RuneError) && !strings.Contains(string(doc), "\\ufffd") &&
				!strings.Contains(string(doc), "\\uFFFD") && !strings.ContainsRune(string(doc), utf8.RuneError) {
				t.Fatalf("CheckText accepted %q, which decodes with a replacement: %q", doc, m)
			}
		}
	})
}
