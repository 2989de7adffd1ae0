package e2e

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"kmsd/daemon"
	"kmsd/daemon/awsapi/sigv4"
	"kmsd/internal/testkit"
)

// TestAWSEndpointUnauthenticatedFlood: 2,000 connections to the AWS
// endpoint on TCP, none signed, each announcing a 256 KiB body and
// sending it slowly (again as soon as kmsd closes it), for 3 s. kmsd
// reads none of those bodies (a body is read only once its signature
// header names a known access key, and is charged to that key's user
// before it is read), admits at most 64 such connections at once, and
// closes each after its refusal: its RSS grows by a few MiB, not the
// 500 MiB the bodies are, and a client signing with an access key is
// served throughout on its own connection.
func TestAWSEndpointUnauthenticatedFlood(t *testing.T) {
	testkit.RequireRoot(t)
	daemon.RaiseFileLimit(slog.New(slog.DiscardHandler)) // the test's own: 2,000 connections
	d := startAWSKMSD(t)
	addr := d.Addr
	key := strings.TrimSpace(d.OK(t, "create-key", "--query", "KeyMetadata.KeyId", "--output", "text"))

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}, Timeout: 10 * time.Second}
	encrypt := func() error {
		body := []byte(`{"KeyId":"` + key + `","Plaintext":"aGVsbG8="}`)
		r, _ := http.NewRequest("POST", "http://"+addr+"/", bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/x-amz-json-1.1")
		r.Header.Set("X-Amz-Target", "TrentService.Encrypt")
		sigv4.SignRequest(r, body, d.AccessKeyID, []byte(d.SecretAccessKey), "local", "kms", time.Now())
		resp, err := client.Do(r)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || !bytes.Contains(b, []byte("CiphertextBlob")) {
			return fmt.Errorf("status %d: %s", resp.StatusCode, b)
		}
		return nil
	}
	if err := encrypt(); err != nil { // the client's connection, before the flood
		t.Fatal(err)
	}
	before := rssMiB(t, d.Pid())

	const conns, announced = 2000, 256 << 10
	head := []byte("POST / HTTP/1.1\r\nHost: " + addr + "\r\nContent-Type: application/x-amz-json-1.1\r\n" +
		"X-Amz-Target: TrentService.Encrypt\r\nContent-Length: " + fmt.Sprint(announced) + "\r\n\r\n")
	chunk := bytes.Repeat([]byte("x"), 4<<10)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var dials, taken atomic.Int64
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				nc, err := net.DialTimeout("tcp", addr, time.Second)
				if err != nil {
					time.Sleep(10 * time.Millisecond)
					continue
				}
				dials.Add(1)
				nc.SetDeadline(time.Now().Add(5 * time.Second))
				sent := 0
				if _, err := nc.Write(head); err == nil {
					for sent < announced {
						select {
						case <-stop:
						case <-time.After(20 * time.Millisecond):
							if _, err := nc.Write(chunk); err == nil {
								sent += len(chunk)
								continue
							}
						}
						break
					}
				}
				if sent >= announced {
					taken.Add(1) // by the kernel's buffers, as kmsd closed the connection
				}
				nc.Close()
			}
		}()
	}
	peak, served := before, 0
	for end := time.Now().Add(3 * time.Second); time.Now().Before(end); {
		if err := encrypt(); err != nil {
			t.Errorf("the signed client, during the flood: %v", err)
		} else {
			served++
		}
		peak = max(peak, rssMiB(t, d.Pid()))
		time.Sleep(20 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	t.Logf("%d unsigned connections made (%d whole bodies taken by the kernel's buffers); the signed client served %d times; kmsd's RSS %d MiB before, at most %d MiB during",
		dials.Load(), taken.Load(), served, before, peak)
	if peak > before+64 {
		t.Errorf("kmsd's RSS grew from %d to %d MiB under unsigned connections", before, peak)
	}
	if served == 0 {
		t.Error("the signed client was never served")
	}
	if !strings.Contains(d.Log.String(), "not yet signed for are at their limit") {
		t.Errorf("kmsd never refused an unsigned connection for the allowance:\n%s", d.Log.String())
	}
}

// TestAWSEndpointNeedsContentLength: a body whose length is not declared
// (chunked) cannot be charged before it is read: it is refused (411),
// unread, and the connection closed.
func TestAWSEndpointNeedsContentLength(t *testing.T) {
	t.Parallel()
	addr := startAWSKMSD(t).Addr
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(nc, "POST / HTTP/1.1\r\nHost: %s\r\nX-Amz-Target: TrentService.ListKeys\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n", addr)
	b, _ := io.ReadAll(nc) // to EOF: kmsd closes the connection
	if !strings.HasPrefix(string(b), "HTTP/1.1 411 ") || !strings.Contains(string(b), "Content-Length") {
		t.Fatalf("a chunked request: %q", b)
	}
}
