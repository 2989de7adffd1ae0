package e2e

import (
	"context"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"kmsd/internal/testkit"
	"kmsd/wire/api"
)

// TestOutOfDescriptors: kmsd raises its open-file limit to the hard
// limit at start, and when connections take every descriptor it has, it
// does not exit (as it did, taking its socket file with it): it backs off,
// keeps serving the connections it has, and serves new ones once
// descriptors are free again.
func TestOutOfDescriptors(t *testing.T) {
	testkit.RequireRoot(t)
	ctx := context.Background()
	d := testkit.Start(t, testkit.Config{
		Wrap: []string{"prlimit", "--nofile=100:200", "--"},
		// Connection limits above the descriptors, so that accept runs out.
		Args: []string{"--max-connections", "1000", "--max-connections-per-uid", "1000", "--hello-timeout", "1m"},
	})
	limits, err := os.ReadFile("/proc/" + strconv.Itoa(d.Pid()) + "/limits")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(limits), "Max open files            200                  200") {
		t.Errorf("kmsd did not raise its soft limit to the hard one:\n%s", limits)
	}
	c := d.Dial(t)
	key, err := c.CreateKey(ctx, &api.CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	var held []net.Conn
	for range 300 {
		nc, err := net.Dial("unix", d.Sock)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, nc)
	}
	time.Sleep(500 * time.Millisecond) // kmsd accepts until it has no descriptor left, then backs off
	select {
	case <-d.Exited():
		t.Fatalf("kmsd exited when it ran out of descriptors:\n%s", d.Log)
	default:
	}
	if _, err := c.Encrypt(ctx, &api.EncryptInput{KeyId: key.KeyMetadata.KeyId, Plaintext: []byte("x")}); err != nil {
		t.Fatalf("a connection kmsd had stopped being served: %v", err)
	}
	if !strings.Contains(d.Log.String(), "cannot accept connections; retrying") {
		t.Errorf("kmsd did not say it ran out:\n%s", d.Log)
	}
	for _, nc := range held {
		nc.Close()
	}
	if _, err := os.Stat(d.Sock); err != nil {
		t.Fatalf("the socket file is gone: %v", err)
	}
	c2 := d.Dial(t) // waits in the listen queue until kmsd has a descriptor again
	if _, err := c2.Encrypt(ctx, &api.EncryptInput{KeyId: key.KeyMetadata.KeyId, Plaintext: []byte("x")}); err != nil {
		t.Fatalf("a new connection after the shortage: %v", err)
	}
}
