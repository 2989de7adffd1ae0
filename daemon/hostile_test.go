package daemon_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"kmsd/daemon"
	"kmsd/wire"
	"kmsd/wire/api"
)

// hostileFrames are sent whole over the socket after Hello. Each must get
// an error answer or a closed connection.
func hostileFrames() map[string][]byte {
	bin32 := frameOf([]byte{0x94, 0x01, 0x07, 0xa7, 'E', 'n', 'c', 'r', 'y', 'p', 't', 0x81,
		0xa9, 'P', 'l', 'a', 'i', 'n', 't', 'e', 'x', 't', 0xc6, 0xff, 0xff, 0x00, 0x00})
	map32 := frameOf([]byte{0x94, 0x01, 0x07, 0xa7, 'E', 'n', 'c', 'r', 'y', 'p', 't', 0xdf, 0xff, 0xff, 0xff, 0xff})
	deep := []byte{0x94, 0x01, 0x07, 0xa7, 'E', 'n', 'c', 'r', 'y', 'p', 't'}
	for range 5000 {
		deep = append(deep, 0x91)
	}
	deep = append(deep, 0x00)
	unknown, _ := wire.AppendRequest(nil, 9, "Encrypt", &api.EncryptInput{})
	copy(unknown[9:16], "Xncrypt") // op name "Xncrypt"
	wrongType := frameOf([]byte{0x94, 0x01, 0x07, 0xa7, 'E', 'n', 'c', 'r', 'y', 'p', 't', 0x81, 0xa5, 'K', 'e', 'y', 'I', 'd', 0xcb, 0, 0, 0, 0, 0, 0, 0, 0})
	return map[string][]byte{
		"bin32 of 0xFFFF0000":      bin32,
		"map32 of 0xFFFFFFFF":      map32,
		"nesting 5000 deep":        frameOf(deep),
		"unknown operation":        unknown,
		"wrong type":               wrongType,
		"length prefix 0xFFFFFFFF": {0xff, 0xff, 0xff, 0xff, 0x94},
		"length prefix 0":          {0, 0, 0, 0},
		"not msgpack":              frameOf([]byte("GET / HTTP/1.1\r\n\r\n")),
		"truncated frame then EOF": {0, 0, 0, 100, 0x94, 0x01},
	}
}

func TestHostileFramesOverTheSocket(t *testing.T) {
	ts := startServer(t, func(c *daemon.Config) { c.FrameTimeout = 300 * time.Millisecond })
	good := dial(t, ts.sock)
	id := newKey(t, good)

	// A well-behaved client keeps working during the whole barrage.
	stop := make(chan struct{})
	var served atomic.Int64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := good.Encrypt(ctx, &api.EncryptInput{KeyId: id, Plaintext: []byte("still here")}); err != nil {
				t.Errorf("good client failed during the barrage: %v", err)
				return
			}
			served.Add(1)
		}
	}()

	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	for round := range 20 {
		for name, f := range hostileFrames() {
			r := rawDial(t, ts.sock, true)
			r.send(f)
			if name == "truncated frame then EOF" {
				r.c.(interface{ CloseWrite() error }).CloseWrite()
			}
			resp, err := r.read(api.OpEncrypt)
			switch {
			case err == nil && resp.Err != nil && resp.Err.Code != "":
				// answered with an error
			case err != nil && (errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)):
				// closed
			default:
				t.Fatalf("round %d, %s: %+v, %v", round, name, resp, err)
			}
			r.c.Close()
		}
	}
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	close(stop)
	wg.Wait()
	if served.Load() == 0 {
		t.Fatal("the good client was not served")
	}
	if grew := int64(after.HeapInuse) - int64(before.HeapInuse); grew > 32<<20 {
		t.Fatalf("heap in use grew by %d MiB over 180 hostile frames", grew>>20)
	}
	if total := after.TotalAlloc - before.TotalAlloc; total > 1<<30 {
		t.Fatalf("the barrage allocated %d MiB in all", total>>20)
	}
	t.Logf("good client served %d requests; heap in use %d -> %d KiB", served.Load(), before.HeapInuse>>10, after.HeapInuse>>10)
}

func TestFirstFrameMustBeHello(t *testing.T) {
	ts := startServer(t)
	r := rawDial(t, ts.sock, false)
	f, _ := wire.AppendRequest(nil, 5, api.OpGenerateRandom, &api.GenerateRandomInput{NumberOfBytes: api.Int32(4)})
	r.send(f)
	resp, err := r.read(api.OpGenerateRandom)
	if err != nil || resp.Err == nil || resp.Err.Code != api.CodeValidation || resp.ID != 5 {
		t.Fatalf("%+v %v", resp, err)
	}
	if _, err := r.read(api.OpGenerateRandom); !errors.Is(err, io.EOF) {
		t.Fatalf("connection not closed: %v", err)
	}
}

func TestPipelinedAnswersMatchIDs(t *testing.T) {
	ts := startServer(t)
	r := rawDial(t, ts.sock, true)
	var buf []byte
	for i := uint64(100); i < 300; i++ {
		buf, _ = wire.AppendRequest(buf, i, api.OpGenerateRandom, &api.GenerateRandomInput{NumberOfBytes: api.Int32(int32(i%50 + 1))})
	}
	r.send(buf)
	seen := map[uint64]bool{}
	for range 200 {
		resp, err := r.read(api.OpGenerateRandom)
		if err != nil || resp.Err != nil {
			t.Fatalf("%+v %v", resp, err)
		}
		if n := len(resp.Body.(*api.GenerateRandomOutput).Plaintext); uint64(n) != resp.ID%50+1 || seen[resp.ID] {
			t.Fatalf("id %d got %d bytes (seen before: %v)", resp.ID, n, seen[resp.ID])
		}
		seen[resp.ID] = true
	}
}

func TestThrottlingWhenTheQueueIsFull(t *testing.T) {
	ts := startServer(t, func(c *daemon.Config) { c.Workers, c.QueueSize = 1, 2 })
	c := dial(t, ts.sock)
	id := newKey(t, c)
	// One frame of 4,000 items is 4 chunks queued at once (the client
	// would cut it into frames that may arrive slowly enough to keep up).
	items := make([]api.Message, 4000)
	for i := range items {
		items[i] = &api.EncryptInput{KeyId: id, Plaintext: make([]byte, 512)}
	}
	frame, err := wire.AppendBatchRequest(nil, 7, api.OpEncrypt, items)
	if err != nil {
		t.Fatal(err)
	}
	raw := rawDial(t, ts.sock, true)
	raw.send(frame)
	resp, err := raw.read(api.OpEncrypt)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Err != nil {
		t.Fatal(resp.Err)
	}
	res := resp.Items
	var ok, throttled int
	for _, r := range res {
		switch {
		case r.Err == nil:
			ok++
		case api.CodeOf(r.Err) == api.CodeThrottling:
			throttled++
		default:
			t.Fatalf("unexpected %v", r.Err)
		}
	}
	if ok == 0 || throttled == 0 || ok+throttled != len(items) {
		t.Fatalf("%d ok, %d throttled of %d", ok, throttled, len(items))
	}
	st, _ := c.Status(ctx, &api.StatusInput{})
	if st.Throttled != int64(throttled) || st.QueueCapacity != 2 {
		t.Fatalf("status %+v", st)
	}
}

func TestDeadlines(t *testing.T) {
	ts := startServer(t, func(c *daemon.Config) { c.IdleTimeout, c.FrameTimeout = 200*time.Millisecond, 200*time.Millisecond })
	idle := rawDial(t, ts.sock, true)
	start := time.Now()
	if _, err := idle.read(api.OpHello); !errors.Is(err, io.EOF) {
		t.Fatalf("idle connection: %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("idle connection closed after %v", d)
	}
	stalled := rawDial(t, ts.sock, true)
	var hdr [4]byte
	binary.BigEndian.PutUint32(hdr[:], 1000)
	stalled.send(append(hdr[:], 0x94)) // a header and one byte of 1000, then nothing
	if _, err := stalled.read(api.OpHello); !errors.Is(err, io.EOF) {
		t.Fatalf("stalled frame: %v", err)
	}
	// The daemon still serves.
	c := dial(t, ts.sock)
	if _, err := c.Status(ctx, &api.StatusInput{}); err != nil {
		t.Fatal(err)
	}
}

// TestSlowReaderDoesNotBlockOthers pipelines requests without reading the
// answers: the connection stops being read once MaxInFlight are
// outstanding, and other connections are served meanwhile. Nothing that
// answers (a worker, the audit trail's goroutine) waits on the slow
// client's socket: if one did, the other client's calls would wait for
// the minute-long write timeout and miss their 20 s.
func TestSlowReaderDoesNotBlockOthers(t *testing.T) {
	ts := startServer(t, func(c *daemon.Config) { c.MaxInFlight = 8; c.WriteTimeout = time.Minute })
	r := rawDial(t, ts.sock, true)
	var buf []byte
	for i := range uint64(5000) {
		buf, _ = wire.AppendRequest(buf, i+10, api.OpGenerateRandom, &api.GenerateRandomInput{NumberOfBytes: api.Int32(1024)})
	}
	go r.c.Write(buf) // blocks once the daemon stops reading; never read the answers
	c := dial(t, ts.sock)
	cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	for range 50 {
		if _, err := c.GenerateRandom(cctx, &api.GenerateRandomInput{NumberOfBytes: api.Int32(16)}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestLargeAnswersToASlowReader: batch answers larger than the socket
// takes at once, to a client that reads them slowly, arrive whole, and
// so does the answer sent after them (a frame begun by one write is
// finished by the writer before anything else is written).
func TestLargeAnswersToASlowReader(t *testing.T) {
	ts := startServer(t)
	id := newKey(t, dial(t, ts.sock))
	r := rawDial(t, ts.sock, true)
	items := make([]api.Message, 512)
	for i := range items {
		items[i] = &api.EncryptInput{KeyId: id, Plaintext: bytes.Repeat([]byte{byte(i)}, 1024)}
	}
	var buf []byte
	for k := range uint64(3) {
		buf, _ = wire.AppendBatchRequest(buf, 10+k, api.OpEncrypt, items)
	}
	buf, _ = wire.AppendRequest(buf, 20, api.OpGenerateRandom, &api.GenerateRandomInput{NumberOfBytes: api.Int32(8)})
	go r.c.Write(buf)
	time.Sleep(50 * time.Millisecond) // the answers are ready; the socket holds only part of them
	sr := &slowReader{r: r.c}
	want := map[uint64]string{10: api.OpEncrypt, 11: api.OpEncrypt, 12: api.OpEncrypt, 20: api.OpGenerateRandom}
	for len(want) > 0 {
		r.c.SetReadDeadline(time.Now().Add(10 * time.Second))
		body, err := wire.ReadFrame(sr, nil, wire.MaxFrame)
		if err != nil {
			t.Fatalf("%d answers left: %v", len(want), err)
		}
		var got uint64
		resp, err := wire.DecodeResponse(body, func(id uint64) (*api.OpSpec, bool) {
			got = id
			op, ok := want[id]
			return api.Lookup(op), ok
		})
		if err != nil || resp.Err != nil {
			t.Fatalf("answer %d: %v %+v", got, err, resp)
		}
		if got != 20 && len(resp.Items) != len(items) {
			t.Fatalf("answer %d has %d items", got, len(resp.Items))
		}
		delete(want, got)
	}
}

// slowReader reads at most 4 KiB at a time, pausing before each of the
// first 64 reads.
type slowReader struct {
	r io.Reader
	n int
}

func (s *slowReader) Read(p []byte) (int, error) {
	if s.n++; s.n < 64 {
		time.Sleep(time.Millisecond)
	}
	return s.r.Read(p[:min(len(p), 4096)])
}

// TestInFlightBoundedInBytes sends 1 MiB batch frames and never reads an
// answer: the connection stops being read once its budget (MaxInFlight
// slots of 16 KiB) is spent, a few frames in, not after MaxInFlight
// frames (which would hold a gigabyte).
func TestInFlightBoundedInBytes(t *testing.T) {
	ts := startServer(t, func(c *daemon.Config) { c.MaxInFlight = 300; c.WriteTimeout = 5 * time.Second })
	admin := dial(t, ts.sock)
	key, err := admin.CreateKey(ctx, &api.CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	items := make([]api.Message, 256)
	for i := range items {
		items[i] = &api.EncryptInput{KeyId: key.KeyMetadata.KeyId, Plaintext: make([]byte, 4000)}
	}
	frame, err := wire.AppendBatchRequest(nil, 10, api.OpEncrypt, items)
	if err != nil || len(frame) < 1000000 {
		t.Fatalf("a %d-byte frame: %v", len(frame), err)
	}
	r := rawDial(t, ts.sock, true)
	go func() {
		for range 40 {
			if _, err := r.c.Write(frame); err != nil {
				return
			}
		}
	}()
	// Wait until the daemon stops taking batches, then count them.
	var last int64 = -1
	for stable := 0; stable < 5; time.Sleep(50 * time.Millisecond) {
		st, err := admin.Status(ctx, &api.StatusInput{})
		if err != nil {
			t.Fatal(err)
		}
		if st.BatchRequests == last {
			stable++
		} else {
			stable, last = 0, st.BatchRequests
		}
	}
	// 300 slots hold four frames of 64 slots; one more may be read while
	// the writer is still taking answers.
	if last < 1 || last > 6 {
		t.Errorf("the daemon took %d 1 MiB batches from a client that reads nothing; want at most 6", last)
	}
}

func TestUnits(t *testing.T) {
	for n, want := range map[int]int{1: 1, 100: 1, 16 << 10: 1, 16<<10 + 1: 2, 1 << 20: 64, wire.MaxFrame: 256} {
		if got := daemon.Units(n); got != want {
			t.Errorf("daemon.Units(%d) = %d, want %d", n, got, want)
		}
	}
}

// Past MaxInFlightTotal (across connections) requests are answered
// ThrottlingException at once instead of held (16 connections: each
// reader works on a small frame itself when nothing else is queued, so
// fewer would rarely pass the budget): what the daemon holds stays
// within the budget plus the frame each reader is on, and all of it is
// released when the answers leave.
func TestTotalInFlightBound(t *testing.T) {
	const total = 64 // units of 16 KiB: 1 MiB
	ts := startServer(t, func(c *daemon.Config) { c.Workers, c.MaxInFlightTotal = 1, total })
	id := newKey(t, dial(t, ts.sock))
	const conns, callers = 16, 32
	var ok, throttled atomic.Int64
	var wg sync.WaitGroup
	for range conns {
		c := dial(t, ts.sock)
		for range callers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				in := &api.EncryptInput{KeyId: id, Plaintext: make([]byte, 4096)}
				for range 20 {
					_, err := c.Encrypt(ctx, in)
					switch {
					case err == nil:
						ok.Add(1)
					case api.CodeOf(err) == api.CodeThrottling:
						throttled.Add(1)
					default:
						t.Error(err)
						return
					}
				}
			}()
		}
	}
	wg.Wait()
	if ok.Load() == 0 || throttled.Load() == 0 {
		t.Errorf("%d answered, %d throttled: want both", ok.Load(), throttled.Load())
	}
	// A coalesced frame of 32 x 4 KiB is 9 units: each connection's reader
	// may hold one frame past the budget.
	if peak, limit := heldPeak(ts.srv), int64(total+conns*daemon.Units(callers*(4096+200))); peak > limit {
		t.Errorf("held %d units at the peak, more than %d", peak, limit)
	}
	// The units are released just after each answer is written, so the
	// last may still be on their way back when the calls return.
	for start := time.Now(); heldNow(ts.srv) != 0; time.Sleep(time.Millisecond) {
		if time.Since(start) > 5*time.Second {
			t.Fatalf("%d units still held after every answer", heldNow(ts.srv))
		}
	}
}
