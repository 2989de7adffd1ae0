package peer

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"kmsd/internal/testkit"
)

func TestMain(m *testing.M) { os.Exit(testkit.Main(m)) }

// BenchmarkAWS is kmsd's AWS endpoint driven by aws-sdk-go-v2 exactly as
// BenchmarkPeer drives local-kms, in the same run: over TCP with Signature
// Version 4 (via=tcp) and over a Unix socket with kernel credentials
// (via=unix). kmsd has its defaults (audit, authorization), as in bench/.
func BenchmarkAWS(b *testing.B) {
	for _, via := range []string{"tcp", "unix"} {
		b.Run("via="+via, func(b *testing.B) {
			pid, c := startEndpoint(b, via)
			runOps(b, pid, c)
		})
	}
}

// startEndpoint runs the real kmsd with --aws-listen and returns its pid
// and an SDK client of it (with an access key kmsd issued, on TCP).
func startEndpoint(b *testing.B, via string) (int, *kms.Client) {
	dir := testkit.ShortDir(b)
	tr := &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256}
	opts := kms.Options{Region: "local", Credentials: credentials.NewStaticCredentialsProvider("bench", "bench", "")}
	listen := "unix:" + filepath.Join(dir, "aws.sock")
	if via == "tcp" {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		listen = "tcp:" + ln.Addr().String()
		opts.BaseEndpoint = aws.String("http://" + ln.Addr().String())
		ln.Close()
	} else {
		sock := filepath.Join(dir, "aws.sock")
		tr.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		}
		opts.BaseEndpoint = aws.String("http://kmsd")
	}
	d := testkit.Start(b, testkit.Config{Dir: dir, Args: []string{"--aws-listen", listen}})
	if via == "tcp" {
		_, kmsctl := testkit.Binaries(b)
		cmd := exec.Command(kmsctl, "--socket", d.Sock, "create-access-key")
		out, err := cmd.Output()
		var k struct {
			AccessKey struct{ AccessKeyId, SecretAccessKey string }
		}
		if err != nil || json.Unmarshal(out, &k) != nil {
			b.Fatalf("create-access-key: %v %s", err, out)
		}
		opts.Credentials = credentials.NewStaticCredentialsProvider(k.AccessKey.AccessKeyId, k.AccessKey.SecretAccessKey, "")
	}
	opts.HTTPClient = &http.Client{Transport: tr}
	b.Cleanup(tr.CloseIdleConnections)
	return d.Pid(), kms.New(opts)
}
