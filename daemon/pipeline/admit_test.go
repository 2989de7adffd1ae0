package pipeline_test

import (
	"log/slog"
	"testing"

	"kmsd/daemon/pipeline"
)

// TestAdmission: the total, each uid's share and root's reserve hold
// across listeners; the reserve is the main socket's alone, so root can
// reach kmsd there whatever fills the others; the other listeners keep
// to their own allowances.
func TestAdmission(t *testing.T) {
	const total, perUID = 64, 16 // root's reserve: 8
	a := pipeline.NewAdmission(total, perUID, 4, slog.New(slog.DiscardHandler))
	for i := range perUID {
		if ok, why := a.Admit(1000); !ok {
			t.Fatalf("uid 1000's connection %d: %s", i, why)
		}
	}
	if ok, _ := a.Admit(1000); ok {
		t.Fatal("uid 1000 passed its share")
	}
	n := perUID
	for uid := uint32(2000); n < total-8; uid++ {
		if ok, why := a.AdmitOn(uid, false); !ok {
			t.Fatalf("connection %d: %s", n, why)
		}
		n++
	}
	if ok, _ := a.AdmitOn(0, false); ok {
		t.Fatal("root took the main socket's reserve on another listener")
	}
	if ok, _ := a.AdmitAux("metrics", "uid:0", 16, 4); ok {
		t.Fatal("the metrics listener took the main socket's reserve")
	}
	if ok, _ := a.AdmitUnsigned(); ok {
		t.Fatal("an unsigned TCP connection took the main socket's reserve")
	}
	for i := range 8 {
		if ok, why := a.Admit(0); !ok {
			t.Fatalf("root's reserved connection %d: %s", i, why)
		}
	}
	if ok, _ := a.Admit(0); ok {
		t.Fatal("root passed the total")
	}
	if got, _ := a.Count(); got != total {
		t.Fatalf("count %d, want %d", got, total)
	}

	b := pipeline.NewAdmission(total, perUID, 4, slog.New(slog.DiscardHandler))
	for i := range 4 {
		if ok, why := b.AdmitAux("metrics", "tcp", 6, 4); !ok {
			t.Fatalf("metrics connection %d: %s", i, why)
		}
	}
	if ok, _ := b.AdmitAux("metrics", "tcp", 6, 4); ok {
		t.Fatal("one peer passed its metrics connections")
	}
	b.AdmitAux("metrics", "uid:5", 6, 4)
	b.AdmitAux("metrics", "uid:6", 6, 4)
	if ok, _ := b.AdmitAux("metrics", "uid:7", 6, 4); ok {
		t.Fatal("the metrics listener passed its allowance")
	}
	b.ReleaseAux("metrics", "tcp")
	if ok, why := b.AdmitAux("metrics", "uid:7", 6, 4); !ok {
		t.Fatalf("a released place is not given again: %s", why)
	}
	if got, _ := b.Count(); got != 6 {
		t.Fatalf("count %d, want 6", got)
	}
}
