package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"kmsd/internal/testkit"
)

// awsCLI is one aws CLI process (testdata/awsdriver.py) that runs the
// commands sent to it as `aws ARGS...` would, a few milliseconds each
// instead of the second the CLI takes to start. TestAWSDriverIsTheCLI
// checks that it prints what the aws binary prints.
type awsCLI struct {
	mu  sync.Mutex
	in  io.WriteCloser
	out *bufio.Scanner
}

// startAWSCLI starts the driver with env (credentials, region) and ends
// it with the test.
func startAWSCLI(t testing.TB, env []string) *awsCLI {
	t.Helper()
	testkit.RequireAWSCLI(t)
	cmd := exec.Command("/usr/bin/python3", filepath.Join("testdata", "awsdriver.py"))
	cmd.Env = env
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal("the aws CLI is installed but Debian's python3, which runs it, does not start: ", err)
	}
	t.Cleanup(func() { in.Close(); cmd.Wait() })
	sc := bufio.NewScanner(out)
	sc.Buffer(nil, 16<<20)
	return &awsCLI{in: in, out: sc}
}

// run runs `aws ARGS...` and returns what it printed and its exit status.
func (a *awsCLI) run(t testing.TB, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	a.mu.Lock()
	defer a.mu.Unlock()
	line, _ := json.Marshal(map[string][]string{"argv": args})
	if _, err := a.in.Write(append(line, '\n')); err != nil {
		t.Fatal("the aws CLI driver: ", err)
	}
	if !a.out.Scan() {
		t.Fatal("the aws CLI driver ended: ", a.out.Err())
	}
	var r struct {
		RC             int
		Stdout, Stderr string
	}
	if err := json.Unmarshal(a.out.Bytes(), &r); err != nil {
		t.Fatalf("the aws CLI driver answered %q: %v", a.out.Text(), err)
	}
	return r.Stdout, r.Stderr, r.RC
}

// TestAWSDriverIsTheCLI: the driver prints what the aws binary prints,
// and exits as it does, for an answer, a failure and a table.
func TestAWSDriverIsTheCLI(t *testing.T) {
	t.Parallel()
	testkit.RequireAWSCLI(t)
	env := []string{"PATH=/usr/bin:/bin", "HOME=" + t.TempDir(), "LANG=C.UTF-8", "AWS_CONFIG_FILE=/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_ACCESS_KEY_ID=x", "AWS_SECRET_ACCESS_KEY=y",
		"AWS_DEFAULT_REGION=local", "AWS_PAGER=", "AWS_MAX_ATTEMPTS=1", "COLUMNS=80"}
	a := startAWSCLI(t, env)
	for _, args := range [][]string{
		{"--version"},
		{"kms", "encrypt", "--key-id", "k"}, // no --plaintext: a usage error
		{"kms", "list-aliases", "--endpoint-url", "http://127.0.0.1:9", "--query", "`[[1],[1,2]]`", "--output", "table", "--cli-connect-timeout", "1"},
		{"kms", "list-aliases", "--endpoint-url", "http://127.0.0.1:9", "--query", "`{\"A\":[1,2]}`", "--output", "yaml"},
	} {
		cmd := exec.Command("/usr/bin/aws", args...)
		cmd.Env = env
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		code := 0
		if err := cmd.Run(); err != nil {
			ee, ok := err.(*exec.ExitError)
			if !ok {
				t.Fatal(err)
			}
			code = ee.ExitCode()
		}
		dOut, dErr, dCode := a.run(t, args...)
		if dOut != out.String() || dCode != code || dErr != errb.String() {
			t.Errorf("aws %q: the binary (exit %d) printed\n%s%s\nthe driver (exit %d)\n%s%s", args, code, out.String(), errb.String(), dCode, dOut, dErr)
		}
	}
}

// awsKMSD is a kmsd serving the AWS API on TCP (args added to its
// command line), and an access key root holds for it.
type awsKMSD struct {
	*testkit.Daemon
	Addr                         string // host:port
	AccessKeyID, SecretAccessKey string
}

// startAWSKMSD starts one, on a free port of the loopback.
func startAWSKMSD(t *testing.T, args ...string) *awsKMSD {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	d := testkit.Start(t, testkit.Config{Args: append([]string{"--aws-listen", "tcp:" + addr}, args...)})
	var ak struct {
		AccessKey struct{ AccessKeyId, SecretAccessKey string }
	}
	if err := json.Unmarshal([]byte(d.OK(t, "create-access-key")), &ak); err != nil {
		t.Fatal(err)
	}
	return &awsKMSD{Daemon: d, Addr: addr, AccessKeyID: ak.AccessKey.AccessKeyId, SecretAccessKey: ak.AccessKey.SecretAccessKey}
}
