package awssdk

import (
	"encoding/json"
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go"

	"kmsd/internal/testkit"
)

// freePort is a loopback port nothing listens on (for a moment).
func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// tcpClient is an SDK client of kmsd's TCP endpoint with the given
// credentials (nil: anonymous, unsigned).
func tcpClient(url string, creds aws.CredentialsProvider) *kms.Client {
	if creds == nil {
		creds = aws.AnonymousCredentials{}
	}
	return kms.New(kms.Options{Region: "us-east-1", BaseEndpoint: aws.String(url), Credentials: creds,
		Retryer: aws.NopRetryer{}})
}

// accessKey issues an access key with kmsctl and reads IAM's shape.
func accessKey(t *testing.T, d *testkit.Daemon, args ...string) (id, secret string) {
	var out struct {
		AccessKey struct{ UserName, AccessKeyId, Status, SecretAccessKey, CreateDate string }
	}
	if err := json.Unmarshal([]byte(d.OK(t, append([]string{"create-access-key"}, args...)...)), &out); err != nil {
		t.Fatal(err)
	}
	k := out.AccessKey
	if len(k.AccessKeyId) != 20 || len(k.SecretAccessKey) != 40 || k.Status != "Active" || k.CreateDate == "" || !strings.HasPrefix(k.UserName, "uid:") {
		t.Fatalf("create-access-key printed %+v", k)
	}
	return k.AccessKeyId, k.SecretAccessKey
}

func code(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return "no API error: " + err.Error()
}

// TestTCP: on TCP, requests act as the principal of the access key that
// signed them (Signature Version 4, as the SDK signs); unsigned, unknown,
// wrongly signed and deleted keys' requests are refused with AWS's codes;
// no secret reaches the audit trail.
func TestTCP(t *testing.T) {
	dir := testkit.ShortDir(t)
	url := "http://127.0.0.1:" + strconv.Itoa(freePort(t))
	d := testkit.Start(t, testkit.Config{Dir: dir, Args: []string{"--aws-listen", "tcp:" + strings.TrimPrefix(url, "http://")}})
	rootID, rootSecret := accessKey(t, d)
	nobodyID, nobodySecret := accessKey(t, d, "--principal", "uid:65534")

	root := tcpClient(url, credentials.NewStaticCredentialsProvider(rootID, rootSecret, ""))
	id := must(root.CreateKey(ctx, &kms.CreateKeyInput{Description: aws.String("over tcp")}))(t).KeyMetadata.KeyId
	enc := must(root.Encrypt(ctx, &kms.EncryptInput{KeyId: id, Plaintext: []byte("over tcp")}))(t)
	if dec := must(root.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob}))(t); string(dec.Plaintext) != "over tcp" {
		t.Errorf("Decrypt: %q", dec.Plaintext)
	}

	// nobody's key acts as uid 65534: root's key does not exist for it,
	// its own key does.
	nobody := tcpClient(url, credentials.NewStaticCredentialsProvider(nobodyID, nobodySecret, ""))
	var nf *types.NotFoundException
	if _, err := nobody.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: id}); !errors.As(err, &nf) {
		t.Errorf("uid 65534 describing root's key: %v, want NotFoundException", err)
	}
	own := must(nobody.CreateKey(ctx, &kms.CreateKeyInput{}))(t).KeyMetadata.KeyId
	if _, err := root.Encrypt(ctx, &kms.EncryptInput{KeyId: own, Plaintext: []byte("x")}); err != nil {
		t.Errorf("root using uid 65534's key: %v", err)
	}

	for name, tc := range map[string]struct {
		creds aws.CredentialsProvider
		want  string
	}{
		"unsigned":           {nil, "MissingAuthenticationTokenException"},
		"unknown access key": {credentials.NewStaticCredentialsProvider("KMSDAAAAAAAAAAAAAAAA", rootSecret, ""), "UnrecognizedClientException"},
		"wrong secret":       {credentials.NewStaticCredentialsProvider(rootID, nobodySecret, ""), "InvalidSignatureException"},
		"a session token":    {credentials.NewStaticCredentialsProvider(rootID, rootSecret, "token"), "UnrecognizedClientException"},
	} {
		if _, err := tcpClient(url, tc.creds).ListKeys(ctx, &kms.ListKeysInput{}); code(err) != tc.want {
			t.Errorf("%s: %v, want %s", name, err, tc.want)
		}
	}

	list := d.OK(t, "list-access-keys")
	if !strings.Contains(list, rootID) || !strings.Contains(list, nobodyID) || strings.Contains(list, "Secret") {
		t.Errorf("list-access-keys:\n%s", list)
	}
	d.OK(t, "delete-access-key", "--access-key-id", nobodyID)
	if _, err := nobody.ListKeys(ctx, &kms.ListKeysInput{}); code(err) != "UnrecognizedClientException" {
		t.Errorf("a deleted key: %v", err)
	}

	trail := d.OK(t, "audit", "query")
	if strings.Contains(trail, rootSecret) || strings.Contains(trail, nobodySecret) {
		t.Errorf("an access key's secret is in the audit trail")
	}
	if !strings.Contains(trail, `"access_key_id":"`+rootID+`"`) || !strings.Contains(trail, `"source":"aws"`) {
		t.Errorf("the trail does not record the keys issued, or the TCP calls")
	}
	if log := d.Log.String(); strings.Contains(log, rootSecret) || strings.Contains(log, nobodySecret) {
		t.Errorf("an access key's secret is in kmsd's log")
	}
	if log := d.Log.String(); !strings.Contains(log, "aws endpoint: requests refused") || !strings.Contains(log, "code=MissingAuthenticationTokenException") {
		t.Errorf("the refused requests are not logged:\n%s", log)
	}

	// The keys outlive kmsd: a restarted kmsd takes the same secret (it
	// derives it; nothing secret was stored).
	if err := d.Stop(); err != nil {
		t.Fatal(err)
	}
	testkit.Start(t, testkit.Config{Dir: dir, Args: []string{"--aws-listen", "tcp:" + strings.TrimPrefix(url, "http://")}})
	if dec := must(root.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob}))(t); string(dec.Plaintext) != "over tcp" {
		t.Errorf("after a restart: %q", dec.Plaintext)
	}
}
