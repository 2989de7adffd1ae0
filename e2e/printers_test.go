package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"net"
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
	testkit.RequireAWSCLI(t)
	if _, err := os.Stat("/usr/bin/python3"); err != nil {
		t.Fatal("the aws CLI is installed but not Debian's python3, which runs it: ", err)
	}
	dir := filepath.Join("..", "cmd", "kmsctl", "internal", "render", "testdata")
	cases, err := readPrinterCases(filepath.Join(dir, "cases.txt"))
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	d := testkit.Start(t, testkit.Config{Args: []string{"--aws-listen", "tcp:" + addr}})
	var ak struct {
		AccessKey struct{ AccessKeyId, SecretAccessKey string }
	}
	if err := json.Unmarshal([]byte(d.OK(t, "create-access-key")), &ak); err != nil {
		t.Fatal(err)
	}

	var in bytes.Buffer
	enc := json.NewEncoder(&in)
	for _, c := range cases {
		for _, o := range []string{"json", "text", "table", "yaml"} {
			enc.Encode(map[string]string{"name": c[0], "data": c[1], "output": o})
		}
	}
	cmd := exec.Command("/usr/bin/python3", filepath.Join("testdata", "awsprint.py"), "http://"+addr)
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + t.TempDir(), "LANG=C.UTF-8",
		"AWS_ACCESS_KEY_ID=" + ak.AccessKey.AccessKeyId, "AWS_SECRET_ACCESS_KEY=" + ak.AccessKey.SecretAccessKey}
	cmd.Stdin = &in
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("awsprint.py: %v\n%s", err, stderr.String())
	}
	ar := &txtar.Archive{Comment: []byte("What the aws CLI (" + awsVersion(t) + ") prints for each input of cases.txt:\n" +
		"NAME.OUTPUT is its standard output; NAME.OUTPUT.exit, when it failed, its exit\n" +
		"status and standard error. Written by: go test ./e2e -run TestPrintersGoldenIsTheAWSCLIs -update-printers\n")}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r struct {
			Name, Output, Stdout, Stderr string
			RC                           int
		}
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("awsprint.py printed %q: %v", sc.Text(), err)
		}
		ar.Files = append(ar.Files, txtar.File{Name: r.Name + "." + r.Output, Data: []byte(r.Stdout)})
		if r.RC != 0 {
			ar.Files = append(ar.Files, txtar.File{Name: r.Name + "." + r.Output + ".exit", Data: []byte(strconv.Itoa(r.RC) + "\n" + r.Stderr)})
		}
	}
	if got, want := len(ar.Files), 4*len(cases); got < want {
		t.Fatalf("awsprint.py answered %d of %d cases\n%s", got, want, stderr.String())
	}
	// The real binaries, end to end: kmsctl on the socket and the aws CLI
	// on the TCP endpoint print the same, and fail the same, for queries
	// whose results are ragged, nested or wide.
	env := []string{"PATH=/usr/bin:/bin", "HOME=" + t.TempDir(), "LANG=C.UTF-8", "AWS_CONFIG_FILE=/dev/null",
		"AWS_ACCESS_KEY_ID=" + ak.AccessKey.AccessKeyId, "AWS_SECRET_ACCESS_KEY=" + ak.AccessKey.SecretAccessKey,
		"AWS_DEFAULT_REGION=local", "AWS_PAGER=", "AWS_MAX_ATTEMPTS=1"}
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
			q := strings.Join(args, " ")
			aws := exec.Command("/usr/bin/aws", append([]string{"--endpoint-url", "http://" + addr, "kms"}, args...)...)
			aws.Env = env
			var aOut, aErr bytes.Buffer
			aws.Stdout, aws.Stderr = &aOut, &aErr
			aCode := 0
			if err := aws.Run(); err != nil {
				ee, ok := err.(*exec.ExitError)
				if !ok {
					t.Fatal(err)
				}
				aCode = ee.ExitCode()
			}
			kOut, kErr, kCode := d.Kmsctl(t, args...)
			if kOut != aOut.String() || kCode != aCode || kErr != aErr.String() {
				t.Errorf("%s: aws (exit %d) printed\n%s%s\nkmsctl (exit %d)\n%s%s", q, aCode, aOut.String(), aErr.String(), kCode, kOut, kErr)
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
