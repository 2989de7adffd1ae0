package awssdk

import (
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"kmsd/internal/testkit"
)

func TestMain(m *testing.M) { os.Exit(testkit.Main(m)) }

var ctx = context.Background()

// endpoint is a kmsd serving the AWS API on a Unix socket.
type endpoint struct {
	d    *testkit.Daemon
	sock string
}

// start runs the real kmsd with --aws-listen unix:DIR/aws.sock and more
// flags.
func start(t *testing.T, args ...string) *endpoint {
	t.Helper()
	dir := testkit.ShortDir(t)
	os.Chmod(dir, 0o755) // others may reach the socket (clientAs)
	sock := filepath.Join(dir, "aws.sock")
	d := testkit.Start(t, testkit.Config{Dir: dir, Args: append([]string{"--aws-listen", "unix:" + sock}, args...)})
	return &endpoint{d: d, sock: sock}
}

// client is an SDK client of the endpoint, as root (the test's own uid).
func (e *endpoint) client(t *testing.T) *kms.Client {
	return e.clientAs(t, 0, 0)
}

// clientAs is an SDK client whose connections are made as uid and gid,
// which is who kmsd takes the caller to be. The SDK signs its requests
// with credentials of its own; on a Unix socket kmsd ignores them.
func (e *endpoint) clientAs(t *testing.T, uid, gid uint32) *kms.Client {
	t.Helper()
	tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		if uid == 0 {
			var d net.Dialer
			return d.DialContext(ctx, "unix", e.sock)
		}
		return testkit.ConnectAs(e.sock, uid, gid)
	}}
	t.Cleanup(tr.CloseIdleConnections)
	return kms.New(kms.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String("http://kmsd"),
		HTTPClient:   &http.Client{Transport: tr},
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "ignored-on-a-unix-socket", ""),
	})
}
