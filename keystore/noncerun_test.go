package keystore

import (
	"encoding/binary"
	"sync"
	"testing"
)

// nonceOf is a blob's XAES-256-GCM nonce: its epoch prefix and counter.
func nonceOf(blob []byte) (prefix [12]byte, n uint64) {
	return [12]byte(blob[22:34]), binary.BigEndian.Uint64(blob[38:46])
}

// TestNonceRunsAreUnique seals from runs and without one on several
// goroutines at once, across an epoch's end: no nonce repeats, no counter
// reaches EpochMessages, and every blob opens.
func TestNonceRunsAreUnique(t *testing.T) {
	m := testMaterial(t, 1)
	id := NewKeyID()
	if _, err := SealBlob(nil, m, AlgXAES256GCM, id, nil, []byte("x")); err != nil {
		t.Fatal(err)
	}
	m.epoch.Load().next.Store(EpochMessages - 300) // the runs cross into a new epoch
	const goroutines, each = 6, 200
	blobs := make([][][]byte, goroutines)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			var run NonceRun
			for i := range each {
				r := &run
				if g%3 == 2 && i%2 == 0 {
					r = nil // single seals between the runs
				}
				b, err := SealBlobContext(nil, m, r, AlgXAES256GCM, id, nil, []byte("run"))
				if err != nil {
					t.Error(err)
					return
				}
				blobs[g] = append(blobs[g], b)
			}
		})
	}
	wg.Wait()
	type nonce struct {
		prefix [12]byte
		n      uint64
	}
	seen := map[nonce]bool{}
	epochs := map[[12]byte]bool{}
	for _, bs := range blobs {
		for _, b := range bs {
			p, n := nonceOf(b)
			if n >= EpochMessages {
				t.Fatalf("counter %d is past the epoch's %d messages", n, EpochMessages)
			}
			if seen[nonce{p, n}] {
				t.Fatalf("nonce %x/%d sealed twice", p, n)
			}
			seen[nonce{p, n}] = true
			epochs[p] = true
			if pt, err := OpenBlob(nil, m, id, nil, b); err != nil || string(pt) != "run" {
				t.Fatalf("a blob sealed from a run does not open: %v", err)
			}
		}
	}
	if len(seen) != goroutines*each || len(epochs) < 2 {
		t.Fatalf("%d nonces in %d epochs, want %d in at least 2", len(seen), len(epochs), goroutines*each)
	}
}

// TestNonceRunGrowth checks what a run costs the epoch: one seal takes
// one value, many take less than twice their count, and a run moves to a
// new material when its sealer does.
func TestNonceRunGrowth(t *testing.T) {
	id := NewKeyID()
	for _, seals := range []int{1, 2, 3, 100, 1000} {
		m := testMaterial(t, 1)
		var run NonceRun
		for range seals {
			if _, err := SealBlobContext(nil, m, &run, AlgXAES256GCM, id, nil, []byte("x")); err != nil {
				t.Fatal(err)
			}
		}
		used := m.epoch.Load().next.Load()
		if used < uint64(seals) || used >= uint64(2*seals) && seals > 1 || seals == 1 && used != 1 {
			t.Errorf("%d seals reserved %d counter values", seals, used)
		}
		if seals > 100 && run.size != MaxNonceRun {
			t.Errorf("after %d seals the run is %d long, want %d", seals, run.size, MaxNonceRun)
		}
		other := testMaterial(t, 2)
		b, err := SealBlobContext(nil, other, &run, AlgXAES256GCM, id, nil, []byte("x"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := OpenBlob(nil, other, id, nil, b); err != nil {
			t.Fatalf("a run moved to another material seals what that material cannot open: %v", err)
		}
		if run.m != other || run.size != 1 {
			t.Fatalf("the run did not start anew on the other material (size %d)", run.size)
		}
	}
}

// BenchmarkNonceRun seals 32 bytes from every processor at once (-cpu 1,2
// shows the scaling): each seal taking its counter value from the
// epoch's shared counter, or each goroutine from a run of its own. On
// the 2-vCPU VM of docs/benchmarks.md, the shared counter gave two cores
// the throughput of one (150 ns a seal either way); runs gave 71 ns.
func BenchmarkNonceRun(b *testing.B) {
	m := testMaterial(b, 1)
	id := NewKeyID()
	pt := make([]byte, 32)
	for _, shared := range []bool{true, false} {
		name := "counter=run"
		if shared {
			name = "counter=shared"
		}
		b.Run(name, func(b *testing.B) {
			b.RunParallel(func(pb *testing.PB) {
				var dst []byte
				var run *NonceRun
				if !shared {
					run = new(NonceRun)
				}
				for pb.Next() {
					var err error
					if dst, err = SealBlobContext(dst[:0], m, run, AlgXAES256GCM, id, nil, pt); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
