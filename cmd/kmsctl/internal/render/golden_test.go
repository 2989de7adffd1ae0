package render

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"
)

// goldenCase is one input of testdata/cases.txt.
type goldenCase struct{ name, data string }

func readCases(t testing.TB) []goldenCase {
	b, err := os.ReadFile("testdata/cases.txt")
	if err != nil {
		t.Fatal(err)
	}
	var cases []goldenCase
	for _, line := range strings.Split(string(b), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, data, ok := strings.Cut(line, "\t")
		if !ok {
			t.Fatalf("cases.txt: not NAME<TAB>JSON: %q", line)
		}
		cases = append(cases, goldenCase{name, data})
	}
	return cases
}

func readArchive(t testing.TB, path string) map[string]string {
	ar, err := txtar.ParseFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, f := range ar.Files {
		m[f.Name] = string(f.Data)
	}
	return m
}

// decode reads a case's JSON as kmsctl's printers get it: numbers as
// json.Number, objects as *Object with sorted keys.
func decode(t testing.TB, data string) any {
	d := json.NewDecoder(strings.NewReader(data))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatalf("%s: %v", data, err)
	}
	return Normalize(v)
}

// print runs the printer of one --output form.
func print(output string, v any) (string, error) {
	var b bytes.Buffer
	var err error
	switch output {
	case "json":
		if o, ok := v.(*Object); ok && len(o.Keys) == 0 {
			break // the aws CLI prints nothing for an empty answer
		}
		JSON(&b, v)
		b.WriteByte('\n')
	case "text":
		Text(&b, v)
	case "table":
		err = Table(&b, "ListAliases", v, 80)
	case "yaml":
		YAML(&b, v)
	}
	return b.String(), err
}

// TestGolden holds every printer to what the aws CLI prints for the same
// value (testdata/aws-cli.txtar), but where kmsctl differs on purpose
// (testdata/kmsctl-differs.txtar says what it prints instead, and why).
func TestGolden(t *testing.T) {
	aws := readArchive(t, "testdata/aws-cli.txtar")
	differs := readArchive(t, "testdata/kmsctl-differs.txtar")
	used := map[string]bool{}
	for _, c := range readCases(t) {
		v := decode(t, c.data)
		for _, output := range []string{"json", "text", "table", "yaml"} {
			name := c.name + "." + output
			want, ok := aws[name]
			if !ok {
				t.Errorf("%s: not in aws-cli.txtar (go test ./e2e -run TestPrintersGoldenIsTheAWSCLIs -update-printers)", name)
				continue
			}
			wantErr := aws[name+".exit"]
			if d, ok := differs[name]; ok {
				want, wantErr, used[name] = d, differs[name+".exit"], true
			}
			got, err := print(output, v)
			switch {
			case wantErr != "":
				_, msg, _ := strings.Cut(strings.TrimSpace(wantErr), "\n")
				if err == nil || !strings.HasSuffix(err.Error(), strings.TrimSpace(msg)) {
					t.Errorf("%s: the aws CLI fails with %q; kmsctl: %v, printing\n%s", name, wantErr, err, got)
				}
			case err != nil:
				t.Errorf("%s: %v", name, err)
			case got != want:
				t.Errorf("%s: the aws CLI prints\n%s\nkmsctl\n%s\n%q\n%q", name, want, got, want, got)
			}
		}
	}
	for name := range differs {
		if !used[name] && !strings.HasSuffix(name, ".exit") && !strings.HasSuffix(name, ".why") {
			t.Errorf("kmsctl-differs.txtar: %s is no case's output", name)
		}
	}
}

// FuzzPrinters feeds any JSON value to every printer: none may panic,
// and only the table may fail, with ErrRagged.
func FuzzPrinters(f *testing.F) {
	for _, c := range readCases(f) {
		f.Add(c.data)
	}
	f.Add(`[[{"a":[[1],[1,2]]}],{"":{"":[]}}]`)
	f.Add(`{"a":"\u0000\u2028\ud800","b":[null,{"c":"` + strings.Repeat("x ", 100) + `"}]}`)
	f.Fuzz(func(t *testing.T, data string) {
		d := json.NewDecoder(strings.NewReader(data))
		d.UseNumber()
		var v any
		if d.Decode(&v) != nil {
			return
		}
		for _, tree := range []any{Normalize(v), Normalize(toFloats(v))} {
			for _, output := range []string{"json", "text", "table", "yaml"} {
				if _, err := print(output, tree); err != nil && !errors.Is(err, ErrRagged) {
					t.Fatalf("%s of %s: %v", output, data, err)
				}
			}
		}
	})
}

// toFloats is v with numbers as float64, as JMESPath gives them back.
func toFloats(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = toFloats(e)
		}
		return m
	case []any:
		l := make([]any, len(x))
		for i, e := range x {
			l[i] = toFloats(e)
		}
		return l
	case json.Number:
		f, _ := x.Float64()
		return f
	}
	return v
}
