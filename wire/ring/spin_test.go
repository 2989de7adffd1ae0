package ring

import (
	"testing"
	"time"
)

// TestWriterSpinAdapts: a writer yields for room as long as room came
// within spaceSpin, and stops yielding (down to none) while it did not.
func TestWriterSpinAdapts(t *testing.T) {
	c := newConn(make([]byte, AreaSize(4096)), 4096, Client)
	if c.wspin != spaceSpin {
		t.Fatalf("a new writer yields %v, want %v", c.wspin, spaceSpin)
	}
	for range 10 {
		c.adaptSpin(time.Millisecond)
	}
	if c.wspin != 0 {
		t.Fatalf("after 10 long waits the writer still yields %v", c.wspin)
	}
	c.adaptSpin(10 * time.Microsecond)
	if c.wspin <= 0 {
		t.Fatal("room that came soon did not make the writer yield again")
	}
	for range 10 {
		c.adaptSpin(time.Microsecond)
	}
	if c.wspin != spaceSpin {
		t.Fatalf("after 10 short waits the writer yields %v, want %v", c.wspin, spaceSpin)
	}
}
