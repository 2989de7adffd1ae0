package storetest

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"kmsd/keystore"
)

// put writes one batch and returns its revision.
func put(t *testing.T, s keystore.Store, b *keystore.Batch) int64 {
	t.Helper()
	if err := s.Write(b); err != nil {
		t.Fatal(err)
	}
	if b.Revision() <= 0 {
		t.Fatalf("a written batch has revision %d", b.Revision())
	}
	return b.Revision()
}

func revs(t *testing.T, s keystore.Store) (map[string]int64, int64) {
	t.Helper()
	out := map[string]int64{}
	view, err := s.ScanRev(nil, func(k, _ []byte, rev int64) error {
		out[string(k)] = rev
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out, view
}

// testRevisions: each batch gets a higher revision, every record the
// revision of the batch that last wrote it, and a view the newest.
func testRevisions(t *testing.T, open, _ Opener) {
	s := open(t)
	defer s.Close()
	var b1, b2 keystore.Batch
	b1.Put([]byte("a"), []byte("1"))
	b1.Put([]byte("b"), []byte("1"))
	r1 := put(t, s, &b1)
	b2.Put([]byte("b"), []byte("2"))
	r2 := put(t, s, &b2)
	if r2 <= r1 {
		t.Fatalf("second batch at revision %d, first at %d", r2, r1)
	}
	got, view := revs(t, s)
	if got["a"] != r1 || got["b"] != r2 || view < r2 {
		t.Fatalf("revisions %v view %d; want a=%d b=%d view>=%d", got, view, r1, r2, r2)
	}
}

// testConditional: a batch whose condition fails writes nothing, not
// even its other changes, and says ErrConflict.
func testConditional(t *testing.T, open, _ Opener) {
	s := open(t)
	defer s.Close()
	var b keystore.Batch
	b.Expect([]byte("k"), 0)
	b.Put([]byte("k"), []byte("1"))
	r1 := put(t, s, &b)

	for _, tc := range []struct {
		name string
		rev  int64
		ok   bool
	}{
		{"absent though present", 0, false},
		{"a revision it never had", r1 + 1000, false},
		{"its revision", r1, true},
		{"the revision it had before", r1, false},
	} {
		var c keystore.Batch
		c.Expect([]byte("k"), tc.rev)
		c.Put([]byte("k"), []byte(tc.name))
		c.Put([]byte("other"), []byte(tc.name))
		err := s.Write(&c)
		if tc.ok != (err == nil) || (!tc.ok && !errors.Is(err, keystore.ErrConflict)) {
			t.Fatalf("%s: Write = %v", tc.name, err)
		}
		if !tc.ok {
			if v, _ := s.Get([]byte("other")); string(v) == tc.name {
				t.Fatalf("%s: part of a refused batch was written", tc.name)
			}
		}
	}
	var d keystore.Batch
	d.Delete([]byte("k"))
	put(t, s, &d)
	var e keystore.Batch
	e.Expect([]byte("k"), 0)
	e.Put([]byte("k"), []byte("again"))
	put(t, s, &e)
}

// testConditionalRace: of many writers claiming one absent record at
// once, exactly one succeeds.
func testConditionalRace(t *testing.T, open, _ Opener) {
	s := open(t)
	defer s.Close()
	var won, lost atomic.Int32
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var b keystore.Batch
			b.Expect([]byte("alias"), 0)
			b.Put([]byte("alias"), []byte{byte('0' + i)})
			switch err := s.Write(&b); {
			case err == nil:
				won.Add(1)
			case errors.Is(err, keystore.ErrConflict):
				lost.Add(1)
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if won.Load() != 1 || lost.Load() != 7 {
		t.Fatalf("%d writers won and %d lost; want 1 and 7", won.Load(), lost.Load())
	}
}

// testWatch: a watch from a revision gets every later batch, in order,
// with its revision and changes, then the ones written while it waits.
func testWatch(t *testing.T, open, _ Opener) {
	s := open(t)
	defer s.Close()
	var b0 keystore.Batch
	b0.Put([]byte("x"), []byte("0"))
	r0 := put(t, s, &b0)
	var b1 keystore.Batch
	b1.Put([]byte("x"), []byte("1"))
	b1.Put([]byte("y"), []byte("1"))
	r1 := put(t, s, &b1)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	events := make(chan keystore.Event, 16)
	done := make(chan error, 1)
	go func() {
		done <- s.Watch(ctx, r0, func(ev keystore.Event) error {
			events <- ev
			return nil
		})
	}()
	next := func() keystore.Event {
		t.Helper()
		select {
		case ev := <-events:
			return ev
		case <-ctx.Done():
			t.Fatal("no event within 10s")
		}
		return keystore.Event{}
	}
	if ev := next(); ev.Revision != r1 || len(ev.Changes) != 2 || string(ev.Changes[0].Key) != "x" || string(ev.Changes[1].Value) != "1" {
		t.Fatalf("replayed event %+v, want revision %d with x and y", ev, r1)
	}
	var b2 keystore.Batch
	b2.Delete([]byte("x"))
	r2 := put(t, s, &b2)
	if ev := next(); ev.Revision != r2 || len(ev.Changes) != 1 || !ev.Changes[0].Delete || string(ev.Changes[0].Key) != "x" {
		t.Fatalf("live event %+v, want the delete of x at %d", ev, r2)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Watch ended with %v after its context", err)
	}
	// An error from fn ends the watch with it.
	stop := errors.New("stop")
	if err := s.Watch(context.Background(), r0, func(keystore.Event) error { return stop }); !errors.Is(err, stop) {
		t.Fatalf("Watch = %v, want fn's error", err)
	}
}
