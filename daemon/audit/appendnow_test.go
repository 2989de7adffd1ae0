package audit

import (
	"errors"
	"testing"
)

// appendNow is Append through AppendNow.
func appendNow(w *Writer, evs ...*Event) error {
	ch := make(chan error, 1)
	w.AppendNow(evs, func(err error) { ch <- err })
	return <-ch
}

// AppendNow on an idle trail writes on the caller's goroutine: done has
// been called when it returns.
func TestAppendNowWritesInPlace(t *testing.T) {
	dir, st := t.TempDir(), &memStore{}
	w := open(t, dir, st)
	done := false
	w.AppendNow([]*Event{call(1)}, func(err error) {
		if err != nil {
			t.Error(err)
		}
		done = true
	})
	if !done {
		t.Error("AppendNow on an idle trail returned before its record was written")
	}
	w.Close()
	if r := verify(t, dir, st); r.Problem != nil || r.Records < 2 {
		t.Fatalf("%+v %v", r, r.Problem)
	}
	if err := appendNow(w, call(2)); !errors.Is(err, ErrUnavailable) {
		t.Errorf("AppendNow after Close: %v", err)
	}
}

// AppendNow and AppendAsync from many goroutines at once make one chain
// with every record in it, whoever writes each group.
func TestAppendNowAndAsyncChainTogether(t *testing.T) {
	appendConcurrently(t, 1600, func(w *Writer, g, i int) error {
		if g%2 == 0 {
			return appendNow(w, call(g*1000+i))
		}
		return w.Append(call(g*1000 + i))
	})
}
