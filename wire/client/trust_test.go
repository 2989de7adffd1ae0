package client_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"kmsd/internal/testkit"
	"kmsd/wire/client"
)

// TestRefusesAnImpostor: a socket at kmsd's path served by another user
// (one who bound it first) is hung up on before anything is sent to it;
// the same server is accepted when its uid is trusted.
func TestRefusesAnImpostor(t *testing.T) {
	dir := testkit.ShortDir(t)
	os.Chmod(dir, 0o777)
	sock := filepath.Join(dir, "kmsd.sock")
	l := testkit.ListenAs(t, sock, 65534, 65534)
	got := make(chan int, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, _ := c.Read(make([]byte, 1024))
		got <- n
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := client.Dial(ctx, sock, client.Options{})
	if !errors.Is(err, client.ErrUntrustedServer) {
		t.Fatalf("Dial to a socket served by nobody: %v", err)
	}
	if n := <-got; n != 0 {
		t.Fatalf("the impostor read %d bytes", n)
	}
	// Trusted, it gets the Hello (and, answering nothing, a timeout).
	go func() {
		c, err := l.Accept()
		if err == nil {
			n, _ := c.Read(make([]byte, 1024))
			got <- n
			c.Close()
		}
	}()
	short, cancel2 := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel2()
	client.Dial(short, sock, client.Options{ServerUIDs: []uint32{65534}})
	if n := <-got; n == 0 {
		t.Fatal("a trusted server got nothing")
	}
}
