package testkit

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"testing"

	"kmsd/daemon"
	"kmsd/wire/client"
)

// InProcess is a kmsd run by daemon.Run in the test's own process.
type InProcess struct {
	Dir, Sock, State string
	Log              *Log
	cancel           context.CancelFunc
	done             chan error
}

// StartInProcess runs daemon.Run with o in this process, in a new
// ShortDir (see RunInProcess), and stops it, as SIGTERM would, when the
// test ends; the test fails if Run then returns an error.
func StartInProcess(t testing.TB, o daemon.Options) *InProcess {
	t.Helper()
	k, err := RunInProcess(ShortDir(t), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := k.Stop(); err != nil {
			t.Errorf("kmsd: %v", err)
		}
	})
	return k
}

// RunInProcess runs daemon.Run with o in this process and returns once
// its Ready hook is called. Empty StateDir and Socket are put in dir
// (state/, kmsd.sock); a nil Logger writes text to Log. The caller stops
// it with Stop.
func RunInProcess(dir string, o daemon.Options) (*InProcess, error) {
	if o.StateDir == "" {
		o.StateDir = filepath.Join(dir, "state")
	}
	if o.Socket == "" {
		o.Socket = filepath.Join(dir, "kmsd.sock")
	}
	k := &InProcess{Dir: dir, Sock: o.Socket, State: o.StateDir, Log: &Log{}, done: make(chan error, 1)}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(k.Log, nil))
	}
	ready := make(chan struct{})
	o.Ready = func() { close(ready) }
	var ctx context.Context
	ctx, k.cancel = context.WithCancel(context.Background())
	go func() { k.done <- daemon.Run(ctx, o) }()
	select {
	case <-ready:
		return k, nil
	case err := <-k.done:
		k.cancel()
		return nil, fmt.Errorf("kmsd: %v\n%s", err, k.Log)
	}
}

// Stop stops kmsd as SIGTERM would and returns what Run returned; later
// calls return nil.
func (k *InProcess) Stop() error {
	if k.cancel == nil {
		return nil
	}
	k.cancel()
	k.cancel = nil
	return <-k.done
}

// Dial connects a Go client to kmsd, closed when the test ends.
func (k *InProcess) Dial(t testing.TB) *client.Client {
	t.Helper()
	return Dial(t, k.Sock)
}
