package kms

import (
	"bytes"
	"testing"
)

// TestRandRun: keys are handed out once each, from reads sized to what
// the batch still needs (a lone key reads its own size), capped so that
// appending to one cannot reach the next, and nothing read is left after
// wipe.
func TestRandRun(t *testing.T) {
	var r randRun
	lone, err := r.take(32, 32)
	if err != nil || len(lone) != 32 || r.end != 32 {
		t.Fatalf("a lone key: %d bytes, read %d, %v", len(lone), r.end, err)
	}
	var r2 randRun
	seen := map[string]bool{}
	for i := range 100 {
		k, err := r2.take(32, 32*(100-i))
		if err != nil {
			t.Fatal(err)
		}
		if cap(k) != 32 {
			t.Fatalf("key %d has capacity %d: appending to it would overwrite the next", i, cap(k))
		}
		if seen[string(k)] || bytes.Equal(k, make([]byte, 32)) {
			t.Fatalf("key %d repeats an earlier one or is zero", i)
		}
		seen[string(k)] = true
		if i == 0 && r2.end != randRunBytes {
			t.Fatalf("a batch of 100 keys read %d bytes first, want %d", r2.end, randRunBytes)
		}
	}
	// 64 keys fill the first read; the 65th makes the second, sized to
	// the 36 still wanted.
	if r2.end != 36*32 {
		t.Fatalf("the second read was %d bytes, want %d", r2.end, 36*32)
	}
	if _, err := r2.take(MaxDataKeyBytes, MaxDataKeyBytes); err != nil {
		t.Fatalf("the largest data key: %v", err)
	}
	if _, err := r2.take(randRunBytes+1, 0); err == nil {
		t.Fatal("more than a read holds was given")
	}
	r2.take(16, 512)
	r2.wipe()
	if r2.off != 0 || r2.end != 0 {
		t.Fatalf("after wipe: off %d end %d", r2.off, r2.end)
	}
}

// TestRandRunWipesLeftovers: what a read brought and no key took is
// cleared when the next read replaces it and by wipe.
func TestRandRunWipesLeftovers(t *testing.T) {
	var r randRun
	k, _ := r.take(32, 1024) // reads 1024
	clear(k)                 // the caller wipes its key
	if bytes.Equal(r.buf[32:1024], make([]byte, 992)) {
		t.Fatal("the read left nothing to wipe: the test cannot tell")
	}
	r.wipe()
	if !bytes.Equal(r.buf[:], make([]byte, randRunBytes)) {
		t.Fatal("wipe left bytes read and not given out")
	}
	k, _ = r.take(1000, 1000)
	clear(k)
	k2, _ := r.take(1100, 1100) // 0 left: reads again
	clear(k2)
	if !bytes.Equal(r.buf[:], make([]byte, randRunBytes)) {
		t.Fatal("bytes outside the keys given out were left")
	}
	// A later read smaller than the last: what the last brought beyond
	// the new read's end must not stay behind.
	var r2 randRun
	for range 3 {
		k, _ := r2.take(500, randRunBytes) // the first reads 2048
		clear(k)
	}
	k, _ = r2.take(1000, 1000) // 548 left: reads 1000 anew
	clear(k)
	if !bytes.Equal(r2.buf[:], make([]byte, randRunBytes)) {
		t.Fatal("a smaller read left the end of the larger one before it")
	}
}
