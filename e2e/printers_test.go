package e2e

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"

	"kmsd/internal/testkit"
)

var updatePrinters = flag.Bool("update-printers", false, "rewrite cmd/kmsctl/internal/render/testdata/aws-cli.txtar from the aws CLI")

// The printers' golden set: cmd/kmsctl/internal/render/testdata holds the
// inputs (cases.txt) and what the real aws CLI prints for each with every
// --output (aws-cli.txtar), which kmsctl's printers are tested against
// (package render). This test proves the golden file is the aws CLI's:
// it prints every case again with the aws CLI, through kmsd's AWS
// endpoint, and fails on any difference (-update-printers rewrites it).
func TestPrintersGoldenIsTheAWSCLIs(t *testing.T) {
	t.Parallel()
	testkit.RequireAWSCLI(t)
	if _, err := os.Stat("/usr/bin/python3"); err != nil {
		t.Fatal("the aws CLI is installed but not Debian's python3, which runs it: ", err)
	}
	dir := filepath.Join("..", "cmd", "kmsctl", "internal", "render", "testdata")
	cases, err := readPrinterCases(filepath.Join(dir, "cases.txt"))
	if err != nil {
		t.Fatal(err)
	}
	d := startAWSKMSD(t)
	addr := d.Addr

	env := []string{"PATH=/usr/bin:/bin", "HOME=" + t.TempDir(), "LANG=C.UTF-8", "AWS_CONFIG_FILE=/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_ACCESS_KEY_ID=" + d.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY=" + d.SecretAccessKey, "AWS_DEFAULT_REGION=local", "AWS_PAGER=",
		"AWS_MAX_ATTEMPTS=1", "COLUMNS=80"}
	aws := startAWSCLI(t, env)
	endpoint := []string{"--endpoint-url", "http://" + addr, "kms"}
	ar := &txtar.Archive{Comment: []byte("What the aws CLI (" + awsVersion(t) + ") prints for each input of cases.txt:\n" +
		"NAME.OUTPUT is its standard output; NAME.OUTPUT.exit, when it failed, its exit\n" +
		"status and standard error. Written by: go test ./e2e -run TestPrintersGoldenIsTheAWSCLIs -update-printers\n")}
	for _, c := range cases {
		for _, o := range []string{"json", "text", "table", "yaml"} {
			stdout, stderr, rc := aws.run(t, append(endpoint, "list-aliases", "--query", "`"+c[1]+"`", "--output", o)...)
			ar.Files = append(ar.Files, txtar.File{Name: c[0] + "." + o, Data: []byte(stdout)})
			if rc != 0 {
				ar.Files = append(ar.Files, txtar.File{Name: c[0] + "." + o + ".exit", Data: []byte(strconv.Itoa(rc) + "\n" + stderr)})
			}
		}
	}

	// The real binaries, end to end: kmsctl on the socket and the aws CLI
	// on the TCP endpoint print the same, and fail the same, for empty
	// lists and for queries whose results are ragged, nested or wide.
	key := strings.TrimSpace(d.OK(t, "create-key", "--query", "KeyMetadata.KeyId", "--output", "text"))
	for _, cmd := range [][]string{
		{"list-aliases"}, // none: an empty list, as the aws CLI prints one
		{"list-grants", "--key-id", key},
		{"list-resource-tags", "--key-id", key},
		{"list-aliases", "--query", "[[`1`],[`1`,`2`]]"},
		{"list-aliases", "--query", "`[{\"A\":\"日本語\",\"B\":1},{\"A\":\"x\",\"B\":22}]`"},
		{"list-aliases", "--query", "`{\"L\":[[1,2],[3,4]]}`"},
	} {
		for _, o := range []string{"json", "text", "table", "yaml"} {
			args := append(append([]string(nil), cmd...), "--output", o)
			aOut, aErr, aCode := aws.run(t, append(endpoint, args...)...)
			kOut, kErr, kCode := d.Kmsctl(t, args...)
			if kOut != aOut || kCode != aCode || kErr != aErr {
				t.Errorf("%s: aws (exit %d) printed\n%s%s\nkmsctl (exit %d)\n%s%s", strings.Join(args, " "), aCode, aOut, aErr, kCode, kOut, kErr)
			}
		}
	}

	golden := filepath.Join(dir, "aws-cli.txtar")
	if *updatePrinters {
		if err := os.WriteFile(golden, txtar.Format(ar), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	old, err := txtar.ParseFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for _, f := range old.Files {
		want[f.Name] = string(f.Data)
	}
	for _, f := range ar.Files {
		if w, ok := want[f.Name]; !ok || w != string(f.Data) {
			t.Errorf("%s: the aws CLI prints\n%s\nthe golden file has\n%s", f.Name, f.Data, w)
		}
		delete(want, f.Name)
	}
	for name := range want {
		t.Errorf("%s: in the golden file, but the aws CLI printed nothing of it", name)
	}
}

// readPrinterCases reads NAME<TAB>JSON lines ("#" starts a comment).
func readPrinterCases(path string) ([][2]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var cases [][2]string
	for _, line := range strings.Split(string(b), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, data, ok := strings.Cut(line, "\t")
		if !ok || !json.Valid([]byte(data)) {
			return nil, fmt.Errorf("%s: not NAME<TAB>JSON: %q", path, line)
		}
		cases = append(cases, [2]string{name, data})
	}
	return cases, nil
}

// awsVersion is the aws CLI's version, as it prints it, up to its Python.
func awsVersion(t *testing.T) string {
	out, err := exec.Command("/usr/bin/aws", "--version").Output()
	if err != nil {
		t.Fatal(err)
	}
	v, _, _ := strings.Cut(strings.TrimSpace(string(out)), " ")
	return v
}
