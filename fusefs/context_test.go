package fusefs

import (
	"maps"
	"testing"
)

func TestParseContext(t *testing.T) {
	cases := []struct {
		seg  string
		want map[string]string
		ok   bool
	}{
		{"purpose=backup", map[string]string{"purpose": "backup"}, true},
		{"a=1,b=2", map[string]string{"a": "1", "b": "2"}, true},
		{"a=", map[string]string{"a": ""}, true},
		{"note=a%2Cb%3Dc%2Fd%25", map[string]string{"note": "a,b=c/d%"}, true},
		{"k%20ey=v%C3%A9", map[string]string{"k ey": "vé"}, true},
		{"a=1=2", map[string]string{"a": "1=2"}, true},
		{"", nil, false},
		{"novalue", nil, false},
		{"=v", nil, false},
		{"a=1,a=2", nil, false},
		{"a=1,", nil, false},
		{"a=%zz", nil, false},
		{"%zz=1", nil, false},
	}
	for _, c := range cases {
		got, err := ParseContext(c.seg)
		if (err == nil) != c.ok || (c.ok && !maps.Equal(got, c.want)) {
			t.Errorf("ParseContext(%q) = %v, %v; want %v (ok %v)", c.seg, got, err, c.want, c.ok)
		}
	}
}

func TestFormatContextRoundTrips(t *testing.T) {
	for _, ec := range []map[string]string{
		{"a": "1"},
		{"purpose": "backup", "team": "ops"},
		{"odd,key": "v=a/l%ue", "sp ace": "", "ü": "\x00\xff"},
	} {
		seg := FormatContext(ec)
		got, err := ParseContext(seg)
		if err != nil || !maps.Equal(got, ec) {
			t.Errorf("%v -> %q -> %v, %v", ec, seg, got, err)
		}
	}
	if got := FormatContext(map[string]string{"b": "2", "a": "1"}); got != "a=1,b=2" {
		t.Errorf("FormatContext is not sorted: %q", got)
	}
}

// FuzzParseContext: no input panics, and whatever parses formats back to
// a segment that parses to the same context.
func FuzzParseContext(f *testing.F) {
	for _, s := range []string{"a=1", "a=1,b=2", "note=a%2Cb", "%", "=", ",", "a=%zz", "k=v,k=v"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, seg string) {
		ec, err := ParseContext(seg)
		if err != nil {
			return
		}
		again, err := ParseContext(FormatContext(ec))
		if err != nil || !maps.Equal(again, ec) {
			t.Fatalf("%q parsed to %v, which does not survive formatting: %v, %v", seg, ec, again, err)
		}
	})
}
