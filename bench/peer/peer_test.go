package peer

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"kmsd/bench/measure"
)

var ctx = context.Background()

// BenchmarkPeer is local-kms in the modes of kmsd's BenchmarkKMSD that an
// AWS KMS client has: one synchronous caller, 64 concurrent callers, and
// 16 callers (each HTTP request has a connection to itself while it runs,
// so this is kmsd's conns=16).
func BenchmarkPeer(b *testing.B) {
	pid, c := startLocalKMS(b)
	runOps(b, pid, c)
}

// runOps runs the suite's AWS-shaped operations against the KMS c talks
// to (process pid), in its modes.
func runOps(b *testing.B, pid int, c *kms.Client) {
	key := createKey(b, c)
	dst := createKey(b, c)
	ec := map[string]string{"app": "bench"}
	blob := func(size int, ec map[string]string) []byte {
		out, err := c.Encrypt(ctx, &kms.EncryptInput{KeyId: &key, Plaintext: make([]byte, size), EncryptionContext: ec})
		if err != nil {
			b.Fatal(err)
		}
		return out.CiphertextBlob
	}
	type op struct {
		name string
		size int
		call func() error
	}
	encrypt := func(size int) op {
		in := &kms.EncryptInput{KeyId: &key, Plaintext: make([]byte, size), EncryptionContext: ec}
		return op{"op=Encrypt/size=" + strconv.Itoa(size), size, func() error { _, err := c.Encrypt(ctx, in); return err }}
	}
	dec := &kms.DecryptInput{CiphertextBlob: blob(32, ec), EncryptionContext: ec}
	gdk := &kms.GenerateDataKeyInput{KeyId: &key, KeySpec: types.DataKeySpecAes256}
	re := &kms.ReEncryptInput{CiphertextBlob: blob(32, nil), DestinationKeyId: &dst}
	ops := []op{
		encrypt(32), encrypt(1024), encrypt(4096),
		{"op=Decrypt/size=32", 32, func() error { _, err := c.Decrypt(ctx, dec); return err }},
		{"op=GenerateDataKey/size=32", 32, func() error { _, err := c.GenerateDataKey(ctx, gdk); return err }},
		{"op=ReEncrypt/size=32", 32, func() error { _, err := c.ReEncrypt(ctx, re); return err }},
	}
	for _, o := range ops {
		for _, m := range []struct {
			name    string
			callers int
		}{{"mode=sync", 1}, {"mode=callers=64", 64}, {"mode=conns=16", 16}} {
			b.Run(o.name+"/"+m.name, func(b *testing.B) {
				measure.Run(b, measure.Spec{Callers: m.callers, Bytes: o.size, PID: pid}, func(int) error { return o.call() })
			})
		}
	}
}

// startLocalKMS runs $LOCAL_KMS on a free loopback port with a fresh data
// directory, or skips the benchmark saying why.
func startLocalKMS(b *testing.B) (int, *kms.Client) {
	bin := os.Getenv("LOCAL_KMS")
	if bin == "" {
		b.Skip("peer: LOCAL_KMS is not set (make bench installs local-kms and sets it); no peer figures")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Skip("peer: no free port:", err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	dir := b.TempDir()
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "PORT="+strconv.Itoa(port), "KMS_DATA_PATH="+dir, "KMS_SEED_PATH="+dir+"/none.yaml")
	if err := cmd.Start(); err != nil {
		b.Skip("peer: local-kms does not start:", err)
	}
	b.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	for start := time.Now(); ; time.Sleep(20 * time.Millisecond) {
		if conn, err := net.Dial("tcp", addr); err == nil {
			conn.Close()
			break
		}
		if time.Since(start) > 20*time.Second {
			b.Skip("peer: local-kms did not listen on", addr)
		}
	}
	c := kms.New(kms.Options{
		Region:       "eu-west-2",
		BaseEndpoint: aws.String("http://" + addr),
		Credentials:  credentials.NewStaticCredentialsProvider("bench", "bench", ""),
		HTTPClient:   &http.Client{Transport: &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256}},
	})
	return cmd.Process.Pid, c
}

func createKey(b *testing.B, c *kms.Client) string {
	out, err := c.CreateKey(ctx, &kms.CreateKeyInput{})
	if err != nil {
		b.Skip("peer: local-kms answers no CreateKey:", err)
	}
	return *out.KeyMetadata.KeyId
}
