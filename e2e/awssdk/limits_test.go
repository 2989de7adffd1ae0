package awssdk

import (
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kms"

	"kmsd/internal/testkit"
)

// TestConnectionLimits: the endpoint's connections count against kmsd's
// per-uid limit: a local user holding idle connections gets the excess
// closed at once, root is still served, and closed connections give
// their places back.
func TestConnectionLimits(t *testing.T) {
	testkit.RequireRoot(t)
	e := start(t, "--max-connections-per-uid", "16")
	dial := func() net.Conn {
		c, err := testkit.ConnectAs(e.sock, 65534, 65534)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	// closed reports whether kmsd closed c (EOF) rather than keeping it.
	closed := func(c net.Conn) bool {
		c.SetReadDeadline(time.Now().Add(150 * time.Millisecond))
		_, err := c.Read(make([]byte, 1))
		return errors.Is(err, io.EOF)
	}
	var conns []net.Conn
	for range 20 {
		conns = append(conns, dial())
	}
	refused := 0
	for _, c := range conns {
		if closed(c) {
			refused++
		}
	}
	if refused != 4 {
		t.Errorf("%d of 20 idle connections of one uid closed, want the 4 past its 16", refused)
	}
	if _, err := e.client(t).ListKeys(ctx, &kms.ListKeysInput{}); err != nil {
		t.Errorf("root, beside them: %v", err)
	}
	for _, c := range conns {
		c.Close()
	}
	testkit.Eventually(t, "the closed connections' places are given back", func() bool {
		c := dial()
		defer c.Close()
		return !closed(c)
	})
	if !strings.Contains(e.d.Log.String(), "AWS endpoint") {
		t.Errorf("the refusals are not logged:\n%s", e.d.Log)
	}
}
