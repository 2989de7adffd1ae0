package daemon_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"kmsd/daemon"
	"kmsd/wire"
	"kmsd/wire/api"
	"kmsd/wire/client"
	"kmsd/wire/ring"
)

// withRings offers rings of size bytes, at most most of them.
func withRings(size, most int) func(*daemon.Config) {
	return func(c *daemon.Config) { c.RingSize, c.MaxRings = size, most }
}

// waitRings waits until the server has n connections on rings.
func waitRings(t *testing.T, s *daemon.Server, n int) {
	t.Helper()
	for end := time.Now().Add(5 * time.Second); s.Rings() != n; {
		if time.Now().After(end) {
			t.Fatalf("%d connections on rings, want %d", s.Rings(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestRingCalls drives every kind of traffic through rings of 4 KiB
// (so that 4 KiB plaintexts and batches of 256 stream through them in
// pieces): singles, concurrent callers coalesced into batches, explicit
// batches, and errors.
func TestRingCalls(t *testing.T) {
	ts := startServer(t, withRings(ring.MinSize, 8))
	c := dial(t, ts.sock)
	hello, err := c.Hello(ctx)
	if err != nil || hello.Ring != ring.MinSize {
		t.Fatalf("Hello: ring %d, %v; want rings of %d", hello.Ring, err, ring.MinSize)
	}
	waitRings(t, ts.srv, 1)
	key := newKey(t, c)
	for _, size := range []int{1, 100, 4095, 4096} {
		pt := make([]byte, size)
		rand.Read(pt)
		enc, err := c.Encrypt(ctx, &api.EncryptInput{KeyId: key, Plaintext: pt})
		if err != nil {
			t.Fatalf("Encrypt %d bytes: %v", size, err)
		}
		dec, err := c.Decrypt(ctx, &api.DecryptInput{CiphertextBlob: enc.CiphertextBlob})
		if err != nil || !bytes.Equal(dec.Plaintext, pt) {
			t.Fatalf("Decrypt %d bytes: %v", size, err)
		}
	}
	if _, err := c.Encrypt(ctx, &api.EncryptInput{KeyId: "alias/none", Plaintext: []byte("x")}); api.CodeOf(err) != api.CodeNotFound {
		t.Fatalf("Encrypt under no key: %v", err)
	}
	items := make([]*api.EncryptInput, 256)
	for i := range items {
		items[i] = &api.EncryptInput{KeyId: key, Plaintext: make([]byte, 4096)}
		rand.Read(items[i].Plaintext)
	}
	batchBack(t, c, items)
	concurrentCallers(t, c, key) // coalesced into batch frames, each answer its caller's
	c.Close()
	waitRings(t, ts.srv, 0)
}

// TestRingLimits: a uid holds at most a quarter of the rings; past that
// its connections keep their frames on the socket, and work. A client
// may also decline rings.
func TestRingLimits(t *testing.T) {
	ts := startServer(t, withRings(ring.MinSize, 8))
	var rings []int32
	for range 3 {
		c := dial(t, ts.sock)
		h, _ := c.Hello(ctx)
		rings = append(rings, h.Ring)
		if _, err := c.CreateKey(ctx, &api.CreateKeyInput{}); err != nil {
			t.Fatal(err)
		}
	}
	if rings[0] == 0 || rings[1] == 0 || rings[2] != 0 {
		t.Fatalf("rings given to one uid's 3 connections (quarter of 8 = 2): %v", rings)
	}
	c, err := client.Dial(ctx, ts.sock, client.Options{NoRing: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if h, _ := c.Hello(ctx); h.Ring != 0 {
		t.Fatalf("a client that declined rings got them: %d", h.Ring)
	}
}

// TestRingSizeAsked: a client gets the ring size it asks for, rounded
// down to a power of two within 4 KiB and the server's largest; a larger
// ring counts as several against the memory for rings (here 32 × 4 KiB,
// 32 KiB of it per uid), and when that is short the client gets the
// default size, or no rings; a ring given back makes room again. Frames
// larger than the default ring pass through a larger one.
func TestRingSizeAsked(t *testing.T) {
	ts := startServer(t, func(c *daemon.Config) { c.RingSize, c.MaxRingSize, c.MaxRings = ring.MinSize, 4*ring.MinSize, 32 })
	open := func(want int) (*client.Client, int32) {
		t.Helper()
		c, err := client.Dial(ctx, ts.sock, client.Options{RingSize: want})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		h, err := c.Hello(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return c, h.Ring
	}
	const k4, k16 = ring.MinSize, 4 * ring.MinSize
	a, got := open(k16)
	if got != k16 {
		t.Fatalf("asked %d: rings of %d", k16, got)
	}
	b, got := open(1 << 30) // past the largest: the largest
	if got != k16 {
		t.Fatalf("asked 1 GiB: rings of %d, want %d", got, k16)
	}
	if _, got = open(k16); got != 0 { // the uid's 32 KiB are out
		t.Fatalf("asked %d with the uid's ring memory out: rings of %d, want none", k16, got)
	}
	b.Close()
	waitRings(t, ts.srv, 1)
	for _, tc := range []struct{ want, got int }{
		{want: k4 + 1000, got: k4}, // rounded down
		{want: 1, got: k4},         // at least 4 KiB
		{want: 0, got: k4},         // the default
		{want: k16, got: k4},       // 16 + 12 of 32 KiB out: the default
	} {
		if _, got := open(tc.want); got != int32(tc.got) {
			t.Fatalf("asked %d: rings of %d, want %d", tc.want, got, tc.got)
		}
	}
	key := newKey(t, a)
	items := make([]*api.EncryptInput, 64) // frames of ~64 KiB through 16 KiB rings
	for i := range items {
		items[i] = &api.EncryptInput{KeyId: key, Plaintext: bytes.Repeat([]byte{byte(i)}, 3000)}
	}
	batchBack(t, a, items)
}

// batchBack encrypts items as one batch call and fails t unless every
// item's ciphertext decrypts to its plaintext.
func batchBack(t *testing.T, c *client.Client, items []*api.EncryptInput) {
	t.Helper()
	results, err := c.EncryptBatch(ctx, items)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range results {
		if r.Err != nil {
			t.Fatalf("item %d: %v", i, r.Err)
		}
		dec, err := c.Decrypt(ctx, &api.DecryptInput{CiphertextBlob: r.Out.CiphertextBlob})
		if err != nil || !bytes.Equal(dec.Plaintext, items[i].Plaintext) {
			t.Fatalf("item %d does not decrypt to its plaintext: %v", i, err)
		}
	}
}

// ringPeer is a hand-made client on rings, for hostile tests.
type ringPeer struct {
	uc *net.UnixConn
	fd int
	rc *ring.Conn
}

func ringDial(t *testing.T, sock string) *ringPeer {
	t.Helper()
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	uc := c.(*net.UnixConn)
	f, _ := wire.AppendRequest(nil, 1, api.OpHello, &api.HelloInput{ProtocolVersion: 1, Ring: true})
	uc.Write(f)
	uc.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 4096)
	oob := make([]byte, unix.CmsgSpace(4))
	n, oobn, _, _, err := uc.ReadMsgUnix(buf, oob)
	if err != nil || oobn == 0 {
		t.Fatalf("Hello answer: %v, %d bytes of control data", err, oobn)
	}
	msgs, _ := unix.ParseSocketControlMessage(oob[:oobn])
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		t.Fatalf("rights: %v %v", fds, err)
	}
	resp, err := wire.DecodeResponse(buf[4:n], func(uint64) (*api.OpSpec, bool) { return api.Lookup(api.OpHello), true })
	if err != nil || resp.Body.(*api.HelloOutput).Ring == 0 {
		t.Fatalf("Hello: %v %v", resp, err)
	}
	rc, err := ring.Map(fds[0], int(resp.Body.(*api.HelloOutput).Ring), ring.Client)
	if err != nil {
		t.Fatal(err)
	}
	bell, _ := ring.NewSocketBell(uc)
	rc.SetBell(bell)
	p := &ringPeer{uc: uc, fd: fds[0], rc: rc}
	t.Cleanup(func() { uc.Close(); rc.Unmap(); unix.Close(p.fd) })
	return p
}

// call sends one request through the rings and reads its answer.
func (p *ringPeer) call(t *testing.T, id uint64, op string, in api.Message) (*wire.Response, error) {
	f, _ := wire.AppendRequest(nil, id, op, in)
	if _, err := p.rc.Write(f); err != nil {
		return nil, err
	}
	p.rc.SetReadDeadline(time.Now().Add(5 * time.Second))
	body, err := wire.ReadFrame(p.rc, nil, wire.MaxFrame)
	if err != nil {
		return nil, err
	}
	return wire.DecodeResponse(body, func(uint64) (*api.OpSpec, bool) { return api.Lookup(op), true })
}

// ended reports whether kmsd closed the peer's socket within 5 s (what
// comes before its end are wake-ups).
func (p *ringPeer) ended() bool {
	p.uc.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		_, err := p.uc.Read(make([]byte, 64))
		if err != nil {
			return errors.Is(err, io.EOF) || errors.Is(err, unix.ECONNRESET) // reset: kmsd closed with bytes unread
		}
	}
}

// TestRingHostile has clients on rings do what they must not: each is
// cut off, its rings given back, and kmsd serves the next one.
func TestRingHostile(t *testing.T) {
	ts := startServer(t, withRings(ring.MinSize, 64))
	good := dial(t, ts.sock)
	key := newKey(t, good)
	for _, tc := range []struct {
		name string
		do   func(t *testing.T, p *ringPeer)
	}{
		{"head past the ring", func(t *testing.T, p *ringPeer) {
			idx := (*[8]byte)(mapped(t, p.fd)[64:72])
			binary.LittleEndian.PutUint64(idx[:], ring.MinSize+1)
			wakeServer(p)
		}},
		{"answer tail past its head", func(t *testing.T, p *ringPeer) {
			binary.LittleEndian.PutUint64(mapped(t, p.fd)[384+64:], 1<<40)
			f, _ := wire.AppendRequest(nil, 2, api.OpEncrypt, &api.EncryptInput{KeyId: key, Plaintext: []byte("x")})
			p.rc.Write(f)
		}},
		{"a frame too large", func(t *testing.T, p *ringPeer) {
			p.rc.Write([]byte{0xff, 0xff, 0xff, 0xff})
		}},
		{"garbage", func(t *testing.T, p *ringPeer) {
			p.rc.Write([]byte{0, 0, 0, 3, 0xc1, 0xc1, 0xc1})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := ringDial(t, ts.sock)
			if err := unix.Ftruncate(p.fd, 0); !errors.Is(err, unix.EPERM) {
				t.Fatalf("shrinking kmsd's area: %v, want EPERM", err)
			}
			resp, err := p.call(t, 1, api.OpEncrypt, &api.EncryptInput{KeyId: key, Plaintext: []byte("fine")})
			if err != nil || resp.Err != nil {
				t.Fatalf("a good call first: %v %v", resp, err)
			}
			tc.do(t, p)
			if !p.ended() {
				t.Fatal("kmsd did not end the connection")
			}
			if _, err := good.Encrypt(ctx, &api.EncryptInput{KeyId: key, Plaintext: []byte("still")}); err != nil {
				t.Fatalf("kmsd after it: %v", err)
			}
			waitRings(t, ts.srv, 1)
		})
	}
}

// TestRingBellNoise: bytes on the socket of a connection on rings are
// wake-ups, whatever they say: a client that writes frames there, or
// floods it, gets its calls answered all the same (and only its own
// wake-ups to pay for).
func TestRingBellNoise(t *testing.T) {
	ts := startServer(t, withRings(ring.MinSize, 8))
	good := dial(t, ts.sock)
	key := newKey(t, good)
	p := ringDial(t, ts.sock)
	f, _ := wire.AppendRequest(nil, 2, api.OpEncrypt, &api.EncryptInput{KeyId: key, Plaintext: []byte("x")})
	for range 100 {
		p.uc.Write(f)
	}
	for i := range uint64(20) {
		resp, err := p.call(t, 10+i, api.OpEncrypt, &api.EncryptInput{KeyId: key, Plaintext: []byte("fine")})
		if err != nil || resp.Err != nil || resp.ID != 10+i {
			t.Fatalf("call %d after the noise: %v %v", i, resp, err)
		}
	}
}

// TestRingShutdown: a graceful shutdown wakes the readers asleep on
// rings, and answers what they read.
func TestRingShutdown(t *testing.T) {
	ts := startServer(t, withRings(ring.MinSize, 8))
	c := dial(t, ts.sock)
	newKey(t, c)
	time.Sleep(50 * time.Millisecond) // the reader is asleep on its ring now
	start := time.Now()
	ts.stop(t)
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("Shutdown with a connection on rings took %v", d)
	}
}

// mapped maps the area behind fd as a hostile client would, to write
// where the protocol says it must not.
func mapped(t *testing.T, fd int) []byte {
	t.Helper()
	var st unix.Stat_t
	unix.Fstat(fd, &st)
	mem, err := unix.Mmap(fd, 0, int(st.Size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Munmap(mem) })
	return mem
}

// wakeServer wakes kmsd's reader if it sleeps on its request ring.
func wakeServer(p *ringPeer) { p.uc.Write([]byte{1}) }

// TestRingWakesAfterWriteTimeout: a connection on rings idle for longer
// than the write timeout still gets its answers (a wake-up written
// through a socket whose Hello write deadline had passed was once lost,
// and the client waited for ever).
func TestRingWakesAfterWriteTimeout(t *testing.T) {
	ts := startServer(t, withRings(ring.MinSize, 8), func(c *daemon.Config) { c.WriteTimeout = 50 * time.Millisecond })
	c := dial(t, ts.sock)
	key := newKey(t, c)
	for range 3 {
		time.Sleep(150 * time.Millisecond) // both readers asleep on their bells
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, err := c.Encrypt(cctx, &api.EncryptInput{KeyId: key, Plaintext: []byte("late")})
		cancel()
		if err != nil {
			t.Fatalf("a call after the write timeout: %v", err)
		}
	}
}
