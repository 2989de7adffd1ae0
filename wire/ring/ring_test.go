package ring

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// pair makes an area with rings of size bytes and maps it for both sides,
// as kmsd and a client would (two mappings of one memfd), with bells on
// the two ends of a socket pair, which it also returns.
func pair(t testing.TB, size int) (srv, cli *Conn) {
	srv, cli, _, _ = pairSockets(t, size)
	return srv, cli
}

func pairSockets(t testing.TB, size int) (srv, cli *Conn, ss, cs *net.UnixConn) {
	t.Helper()
	fd, err := Create(size)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	srv, err = Map(fd, size, Server)
	if err != nil {
		t.Fatal(err)
	}
	cli, err = Map(fd, size, Client)
	if err != nil {
		t.Fatal(err)
	}
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	conns := make([]*net.UnixConn, 2)
	for i, fd := range fds {
		f := os.NewFile(uintptr(fd), "bell")
		nc, err := net.FileConn(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		conns[i] = nc.(*net.UnixConn)
	}
	ss, cs = conns[0], conns[1]
	sb, _ := NewSocketBell(ss)
	cb, _ := NewSocketBell(cs)
	srv.SetBell(sb)
	cli.SetBell(cb)
	t.Cleanup(func() { srv.Unmap(); cli.Unmap(); ss.Close(); cs.Close() })
	return srv, cli, ss, cs
}

// TestStream sends a few MiB each way at once through 4 KiB rings, in
// writes and reads of odd sizes (so every wrap and every wait is hit),
// and checks what arrives.
func TestStream(t *testing.T) {
	srv, cli := pair(t, MinSize)
	for _, dir := range []struct {
		name string
		w, r *Conn
	}{{"requests", cli, srv}, {"answers", srv, cli}} {
		t.Run(dir.name, func(t *testing.T) {
			t.Parallel()
			want := make([]byte, 3<<20+17)
			rand.Read(want)
			go func() {
				for p := want; len(p) > 0; {
					n := min(len(p), 1+len(p)%7919)
					if _, err := dir.w.Writev([][]byte{p[:n/2], p[n/2 : n]}); err != nil {
						t.Error(err)
						return
					}
					p = p[n:]
				}
			}()
			got := make([]byte, 0, len(want))
			buf := make([]byte, 5003)
			for len(got) < len(want) {
				n, err := dir.r.Read(buf[:1+len(got)%len(buf)])
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, buf[:n]...)
			}
			if !bytes.Equal(got, want) {
				t.Fatal("the bytes read are not those written")
			}
		})
	}
}

func TestDeadlines(t *testing.T) {
	srv, cli := pair(t, MinSize)
	srv.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	if _, err := srv.Read(make([]byte, 8)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Read past its deadline: %v, want os.ErrDeadlineExceeded", err)
	}
	// A reader asleep with no deadline is woken by one set from elsewhere.
	srv.SetReadDeadline(time.Time{})
	done := make(chan error, 1)
	go func() { _, err := srv.Read(make([]byte, 8)); done <- err }()
	time.Sleep(20 * time.Millisecond)
	srv.SetReadDeadline(time.Now())
	select {
	case err := <-done:
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("woken Read: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a sleeping Read did not see its new deadline")
	}
	// A writer on a full ring waits for space until its deadline.
	if _, err := cli.Write(make([]byte, MinSize)); err != nil {
		t.Fatal(err)
	}
	cli.SetWriteDeadline(time.Now().Add(20 * time.Millisecond))
	if n, err := cli.Write([]byte{1}); n != 0 || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Write to a full ring: %d, %v", n, err)
	}
	if cli.TryWritev([][]byte{{1}}) {
		t.Fatal("TryWritev wrote to a full ring")
	}
}

func TestCloseWakes(t *testing.T) {
	srv, cli := pair(t, MinSize)
	if _, err := srv.Write(make([]byte, MinSize)); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	wg.Add(2)
	go func() { defer wg.Done(); _, errs[0] = srv.Read(make([]byte, 1)) }()
	go func() { defer wg.Done(); _, errs[1] = srv.Write([]byte{1}) }()
	time.Sleep(20 * time.Millisecond)
	srv.Close(io.EOF)
	wg.Wait()
	for i, err := range errs {
		if !errors.Is(err, io.EOF) {
			t.Errorf("waiter %d after Close: %v, want its reason", i, err)
		}
	}
	_ = cli
}

// TestHostileIndexes has a client write indexes that cannot be right:
// kmsd's side reports ErrCorrupt and copies nothing.
func TestHostileIndexes(t *testing.T) {
	for _, tc := range []struct {
		name string
		bad  func(srv *Conn)
		op   func(srv *Conn) error
	}{
		{"head past a whole ring", func(s *Conn) { s.in.head.Store(MinSize + 1) },
			func(s *Conn) error { _, err := s.Read(make([]byte, 8)); return err }},
		{"head behind the tail", func(s *Conn) { s.rtail = 100; s.in.head.Store(50) },
			func(s *Conn) error { _, err := s.Read(make([]byte, 8)); return err }},
		{"tail past the head", func(s *Conn) { s.out.tail.Store(1) },
			func(s *Conn) error { _, err := s.Write([]byte("answer")); return err }},
		{"tail a ring behind", func(s *Conn) { s.whead = 3 * MinSize; s.out.tail.Store(MinSize) },
			func(s *Conn) error { _, err := s.Write([]byte("answer")); return err }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, _ := pair(t, MinSize)
			tc.bad(srv)
			srv.SetReadDeadline(time.Now().Add(time.Second))
			if err := tc.op(srv); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("got %v, want ErrCorrupt", err)
			}
		})
	}
}

// TestFruitlessWakes has a peer ring the bell as fast as it can, with
// nothing written: the reader goes on sleeping, and after a few such
// wake-ups, sleeps a millisecond between them.
func TestFruitlessWakes(t *testing.T) {
	srv, _, _, cs := pairSockets(t, MinSize)
	stop := make(chan struct{})
	go func() {
		for {
			select {
			case <-stop:
				return
			default:
				cs.Write([]byte{1, 1, 1, 1})
			}
		}
	}()
	srv.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	_, err := srv.Read(make([]byte, 8))
	close(stop)
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Read: %v", err)
	}
	if n := srv.Sleeps(); n > fruitlessMost+200+50 {
		t.Fatalf("the reader slept %d times in 200 ms: a peer ringing for nothing makes it spin", n)
	}
}

// TestPeerGone: the bell's end (the peer's socket closed) ends a
// sleeping Read with io.EOF.
func TestPeerGone(t *testing.T) {
	srv, _, _, cs := pairSockets(t, MinSize)
	go func() { time.Sleep(20 * time.Millisecond); cs.Close() }()
	if _, err := srv.Read(make([]byte, 8)); !errors.Is(err, io.EOF) {
		t.Fatalf("Read after the peer left: %v, want io.EOF", err)
	}
}

func TestMapChecks(t *testing.T) {
	fd, err := Create(MinSize)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if err := unix.Ftruncate(fd, 4096); !errors.Is(err, unix.EPERM) {
		t.Fatalf("shrinking the area: %v, want EPERM (sealed)", err)
	}
	if _, err := Map(fd, 2*MinSize, Client); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Map with another size: %v", err)
	}
	for _, size := range []int{0, MinSize - 1, MinSize + 1024, 2 * MaxSize} {
		if _, err := Create(size); err == nil {
			t.Fatalf("Create(%d) worked", size)
		}
	}
	unsealed, err := unix.MemfdCreate("x", unix.MFD_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(unsealed)
	unix.Ftruncate(unsealed, int64(AreaSize(MinSize)))
	if _, err := Map(unsealed, MinSize, Client); err == nil {
		t.Fatal("Map took an area that can shrink")
	}
	sealed, err := unix.MemfdCreate("x", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(sealed)
	unix.Ftruncate(sealed, int64(AreaSize(MinSize)))
	unix.FcntlInt(uintptr(sealed), unix.F_ADD_SEALS, unix.F_SEAL_SHRINK)
	if _, err := Map(sealed, MinSize, Client); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Map of an area without the magic: %v", err)
	}
}

// BenchmarkPingPong is one round trip of a 100-byte message, through a
// ring and through a socket pair, between two goroutines of which the
// answering one sleeps when idle (its poll window is zero).
func BenchmarkPingPong(b *testing.B) {
	msg := make([]byte, 100)
	run := func(b *testing.B, cw, sr io.Writer, cr, sr2 io.Reader) (done chan struct{}) {
		done = make(chan struct{})
		go func() {
			defer close(done)
			buf := make([]byte, 100)
			for {
				if _, err := io.ReadFull(sr2, buf); err != nil {
					return
				}
				sr.Write(buf)
			}
		}()
		buf := make([]byte, 100)
		b.ResetTimer()
		for b.Loop() {
			cw.Write(msg)
			io.ReadFull(cr, buf)
		}
		return done
	}
	b.Run("transport=ring", func(b *testing.B) {
		srv, cli := pair(b, 64<<10)
		done := run(b, cli, srv, cli, srv)
		srv.Close(nil)
		<-done
	})
	b.Run("transport=socket", func(b *testing.B) {
		fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			b.Fatal(err)
		}
		fa, fc := os.NewFile(uintptr(fds[0]), "a"), os.NewFile(uintptr(fds[1]), "c")
		done := run(b, fa, fc, fa, fc)
		fa.Close()
		fc.Close()
		<-done
	})
}

// TestRoomWakesWriter fills a ring whose reader is slow: the writer
// sleeps on the bell for room, the reader rings it when it frees some,
// and every byte arrives, with the writer asleep rather than polling
// (the reader's rings count the wake-ups it gave).
func TestRoomWakesWriter(t *testing.T) {
	srv, cli := pair(t, MinSize)
	want := make([]byte, 64*MinSize)
	rand.Read(want)
	done := make(chan error, 1)
	go func() { _, err := cli.Write(want); done <- err }()
	got := make([]byte, 0, len(want))
	buf := make([]byte, MinSize/2)
	for len(got) < len(want) {
		time.Sleep(time.Millisecond / 4) // slower than the writer: it runs out of room
		n, err := srv.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, buf[:n]...)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("the bytes read are not those written")
	}
	if srv.Rings() == 0 {
		t.Fatal("the reader never rang for the writer waiting for room")
	}
}

// TestBothSleep has one side's reader and writer asleep on its bell at
// once: a client that streams a request larger than the ring while it
// waits for the answer to an earlier one, against a peer that answers
// only once it has read the whole request. A wake-up for either must
// wake the one it is for.
func TestBothSleep(t *testing.T) {
	srv, cli := pair(t, MinSize)
	req := make([]byte, 16*MinSize)
	rand.Read(req)
	answer := make(chan []byte, 1)
	go func() { // the client's reader: sleeps until the answer comes
		buf := make([]byte, 8)
		if _, err := io.ReadFull(cli, buf); err != nil {
			t.Error(err)
		}
		answer <- buf
	}()
	wrote := make(chan error, 1)
	go func() { _, err := cli.Write(req); wrote <- err }() // it sleeps for room, often
	// The peer reads all of it, slowly, then answers.
	go func() {
		buf := make([]byte, MinSize/4)
		for n := 0; n < len(req); {
			time.Sleep(100 * time.Microsecond)
			k, err := srv.Read(buf)
			if err != nil {
				t.Error(err)
				return
			}
			n += k
		}
		srv.Write([]byte("answered"))
	}()
	select {
	case got := <-answer:
		if string(got) != "answered" {
			t.Fatalf("answer %q", got)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("a wake-up for the writer or the reader was lost")
	}
	if err := <-wrote; err != nil {
		t.Fatal(err)
	}
}

// TestRoundsBothSleep repeats what a client of large batches does, many
// times over rings much smaller than its frames: the client writes a
// request while its reader waits for the previous answer, kmsd reads it
// and writes an answer as large, and each side's reader and writer sleep
// on one bell, often at once. A wake-up read by the wrong one of them and
// not looked for by the other stalls a round until the test's limit.
func TestRoundsBothSleep(t *testing.T) {
	srv, cli := pair(t, MinSize)
	const rounds, size = 1000, 5 * MinSize
	msg := make([]byte, size)
	rand.Read(msg)
	go func() { // kmsd: read a request, answer it
		buf := make([]byte, size)
		for range rounds {
			if _, err := io.ReadFull(srv, buf); err != nil {
				t.Error(err)
				return
			}
			if _, err := srv.Write(buf); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	answers := make(chan error, 1)
	go func() { // the client's reader
		buf := make([]byte, size)
		for range rounds {
			if _, err := io.ReadFull(cli, buf); err != nil {
				answers <- err
				return
			}
			if !bytes.Equal(buf, msg) {
				answers <- errors.New("an answer is not its request")
				return
			}
		}
		answers <- nil
	}()
	go func() { // the client's writer, never waiting for answers
		for range rounds {
			if _, err := cli.Write(msg); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	select {
	case err := <-answers:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("a round stalled: a wake-up was lost")
	}
}
