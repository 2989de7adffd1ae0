package client

import (
	"os"
	"testing"
)

// TestDefaultSocket: $KMSD_SOCKET first, then the systemd unit's socket
// when it exists, then ./kmsd.sock.
func TestDefaultSocket(t *testing.T) {
	t.Setenv("KMSD_SOCKET", "/somewhere/k.sock")
	if got := DefaultSocket(); got != "/somewhere/k.sock" {
		t.Errorf("with $KMSD_SOCKET: %s", got)
	}
	t.Setenv("KMSD_SOCKET", "")
	want := "kmsd.sock"
	if _, err := os.Stat(SystemSocket); err == nil {
		want = SystemSocket
	}
	if got := DefaultSocket(); got != want {
		t.Errorf("without: %s, want %s", got, want)
	}
}
