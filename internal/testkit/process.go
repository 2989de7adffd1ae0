package testkit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"kmsd/wire/client"
)

// Config says how to start kmsd.
type Config struct {
	// Dir is where kmsd runs: its socket (kmsd.sock), state (state/) and
	// the notify socket are made there. Start makes a ShortDir if empty.
	Dir string
	// Args are more flags, after --state-dir and --socket.
	Args []string
	// Env is added to the test's environment.
	Env []string
	// Wrap, if set, is a command that runs kmsd (its arguments, then
	// kmsd's path and flags), such as prlimit with limits to set; it must
	// exec kmsd, so that the process is kmsd's.
	Wrap []string
}

// Daemon is a running kmsd binary.
type Daemon struct {
	Dir, Sock, State string
	// Log is what kmsd writes to stdout and stderr.
	Log *Log

	cmd    *exec.Cmd
	notify *net.UnixConn
	notes  *Log // the messages kmsd sent to NOTIFY_SOCKET, one per line
	done   chan struct{}
	err    error // Wait's, once done is closed
}

// readyTimeout bounds how long kmsd may take to say READY=1 (the race
// detector's build starts slowly on a loaded machine).
const readyTimeout = time.Minute

// Start runs kmsd as Config says and returns once it is ready; the test
// fails if it exits or does not get ready first. It is killed when the
// test ends, if still running.
func Start(t testing.TB, c Config) *Daemon {
	t.Helper()
	kmsd, _ := Binaries(t)
	if c.Dir == "" {
		c.Dir = ShortDir(t)
	}
	d, err := StartProcess(kmsd, c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		d.Stop()
		if t.Failed() {
			t.Logf("kmsd's log:\n%s", d.Log)
		}
	})
	return d
}

// StartProcess runs the kmsd binary at path as Config says (Config.Dir
// must be set) and returns once it says READY=1, or an error (with its
// log) if it exits or does not get ready in time.
func StartProcess(path string, c Config) (*Daemon, error) {
	d := &Daemon{Dir: c.Dir, Sock: filepath.Join(c.Dir, "kmsd.sock"), State: filepath.Join(c.Dir, "state"),
		Log: &Log{}, notes: &Log{}, done: make(chan struct{})}
	notifyPath := filepath.Join(c.Dir, "notify.sock")
	os.Remove(notifyPath)
	nc, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: notifyPath, Net: "unixgram"})
	if err != nil {
		return nil, err
	}
	d.notify = nc
	ready := make(chan struct{})
	go d.readNotes(ready)
	args := append([]string{path, "--state-dir", d.State, "--socket", d.Sock}, c.Args...)
	if len(c.Wrap) > 0 {
		args = append(append([]string(nil), c.Wrap...), args...)
	}
	d.cmd = exec.Command(args[0], args[1:]...)
	d.cmd.Env = append(append(os.Environ(), c.Env...), "NOTIFY_SOCKET="+notifyPath)
	d.cmd.Stdout, d.cmd.Stderr = d.Log, d.Log
	if err := d.cmd.Start(); err != nil {
		nc.Close()
		return nil, err
	}
	go func() {
		d.err = d.cmd.Wait()
		close(d.done)
	}()
	select {
	case <-ready:
		return d, nil
	case <-d.done:
		d.notify.Close()
		return nil, fmt.Errorf("kmsd exited before it was ready: %v\n%s", d.err, d.Log)
	case <-time.After(readyTimeout):
		d.Kill()
		return nil, fmt.Errorf("kmsd did not say READY=1 within %v\n%s", readyTimeout, d.Log)
	}
}

// readNotes records what kmsd sends to its notify socket and closes
// ready at READY=1.
func (d *Daemon) readNotes(ready chan struct{}) {
	buf := make([]byte, 4096)
	once := sync.Once{}
	for {
		n, err := d.notify.Read(buf)
		if err != nil {
			return
		}
		msg := string(buf[:n])
		d.notes.Write([]byte(msg + "\n"))
		for _, line := range strings.Split(msg, "\n") {
			if line == "READY=1" {
				once.Do(func() { close(ready) })
			}
		}
	}
}

// Notes returns what kmsd has told its notify socket so far (READY=1,
// STATUS=..., STOPPING=1), one message per line.
func (d *Daemon) Notes() string { return d.notes.String() }

// Pid is kmsd's process id.
func (d *Daemon) Pid() int { return d.cmd.Process.Pid }

// Signal sends sig to kmsd.
func (d *Daemon) Signal(sig os.Signal) error { return d.cmd.Process.Signal(sig) }

// Stop stops kmsd as systemd would: SIGTERM, and SIGKILL if it has not
// exited 10 seconds later. It returns how kmsd exited.
func (d *Daemon) Stop() error {
	d.cmd.Process.Signal(syscall.SIGTERM)
	if err := d.Wait(10 * time.Second); err == nil || d.exited() {
		return err
	}
	d.Kill()
	return fmt.Errorf("kmsd did not stop on SIGTERM\n%s", d.Log)
}

func (d *Daemon) exited() bool {
	select {
	case <-d.done:
		return true
	default:
		return false
	}
}

// Kill kills kmsd (SIGKILL) if it still runs, and waits for it.
func (d *Daemon) Kill() {
	d.cmd.Process.Signal(syscall.SIGKILL)
	<-d.done
	d.notify.Close()
}

// Wait waits up to timeout for kmsd to exit and returns how it did, or an
// error if it is still running.
func (d *Daemon) Wait(timeout time.Duration) error {
	select {
	case <-d.done:
		d.notify.Close()
		return d.err
	case <-time.After(timeout):
		return fmt.Errorf("kmsd still runs after %v", timeout)
	}
}

// Exited is closed once kmsd has exited.
func (d *Daemon) Exited() <-chan struct{} { return d.done }

// Dial connects a Go client to kmsd, closed when the test ends.
func (d *Daemon) Dial(t testing.TB) *client.Client {
	t.Helper()
	return Dial(t, d.Sock)
}

// Dial connects a Go client to the kmsd serving sock, closed when the
// test ends.
func Dial(t testing.TB, sock string) *client.Client {
	t.Helper()
	c, err := client.Dial(context.Background(), sock, client.Options{Client: "testkit"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// Kmsctl runs the real kmsctl against d, in d.Dir, and returns its
// stdout, stderr and exit code.
func (d *Daemon) Kmsctl(t testing.TB, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	_, kmsctl := Binaries(t)
	cmd := exec.Command(kmsctl, args...)
	cmd.Env = append(os.Environ(), "KMSD_SOCKET="+d.Sock)
	cmd.Dir = d.Dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

// OK runs kmsctl and fails the test unless it succeeds; it returns the
// output.
func (d *Daemon) OK(t testing.TB, args ...string) string {
	t.Helper()
	out, errs, code := d.Kmsctl(t, args...)
	if code != 0 {
		t.Fatalf("kmsctl %s: exit %d\n%s", strings.Join(args, " "), code, errs)
	}
	return out
}

// Log is output safe to read while it is written.
type Log struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *Log) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *Log) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
