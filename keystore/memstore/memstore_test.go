package memstore

import (
	"context"
	"errors"
	"testing"

	"kmsd/keystore"
	"kmsd/keystore/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(*testing.T) keystore.Store { return New() }, nil)
}

// A watch from further back than the store keeps is ErrCompacted, and
// from the oldest revision kept it replays the rest.
func TestWatchCompacted(t *testing.T) {
	s := New()
	defer s.Close()
	for i := range keep + 10 {
		var b keystore.Batch
		b.Put([]byte("k"), []byte{byte(i)})
		if err := s.Write(&b); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Watch(context.Background(), 0, func(keystore.Event) error { return nil }); !errors.Is(err, keystore.ErrCompacted) {
		t.Fatalf("Watch(0) = %v, want ErrCompacted", err)
	}
	stop := errors.New("stop")
	var first int64
	err := s.Watch(context.Background(), 10, func(ev keystore.Event) error { first = ev.Revision; return stop })
	if !errors.Is(err, stop) || first != 11 {
		t.Fatalf("Watch(10) = %v first %d, want revision 11", err, first)
	}
}
