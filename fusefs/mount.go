package fusefs

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"
)

// Options configure a mount.
type Options struct {
	// AllowOther lets users other than the mounting one use the mount
	// (what each of them may do is still the key policy's to say).
	AllowOther bool
	// Logger gets why requests were refused, with the caller's uid and
	// pid; never plaintext or key material.
	Logger *slog.Logger
	// Debug logs every FUSE request (go-fuse's own tracing).
	Debug bool
}

// Mount is a mounted tree.
type Mount struct {
	dir string
	srv *fuse.Server
	t   *tree
	log *slog.Logger
}

// New mounts the tree of svc on dir. As root it mounts the kernel's FUSE
// device directly; otherwise go-fuse runs fusermount3, which must be
// installed (Debian: the fuse3 package). A mount a crashed kmsd left on
// dir ("transport endpoint is not connected") is detached first; a
// missing dir is made (its parent must exist).
func New(mountpoint string, svc Service, o Options) (*Mount, error) {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := detachStale(mountpoint, log); err != nil {
		return nil, err
	}
	fi, err := os.Stat(mountpoint)
	if errors.Is(err, os.ErrNotExist) {
		// Made here, not by the unit (an ExecStartPre=mkdir fails on the
		// dead mount a crashed kmsd leaves, and so stops the restart).
		if err = os.Mkdir(mountpoint, 0o755); err == nil {
			fi, err = os.Stat(mountpoint)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("mount point: %w", err)
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("mount point %s is not a directory", mountpoint)
	}
	root := os.Geteuid() == 0
	if !root {
		if err := findFusermount(); err != nil {
			return nil, fmt.Errorf("mounting %s: %w", mountpoint, err)
		}
	}
	t := &tree{svc: svc, log: log}
	ttl, neg := entryTTL, time.Duration(0)
	srv, err := fs.Mount(mountpoint, &dir{t: t, kind: dirRoot}, &fs.Options{
		EntryTimeout: &ttl, AttrTimeout: &ttl, NegativeTimeout: &neg,
		MountOptions: fuse.MountOptions{
			AllowOther:        o.AllowOther,
			FsName:            "kmsd",
			Name:              "kmsd",
			DirectMountStrict: root,
			DisableXAttrs:     true,
			// Answers are bytes in memory, never a file to splice from;
			// left on, go-fuse fills a pipe for every read before it finds
			// that out and writes the answer the plain way.
			DisableSplice: true,
			MaxBackground: 64,
			Debug:         o.Debug,
		},
	})
	if err != nil {
		return nil, fmt.Errorf("mounting %s: %w", mountpoint, err)
	}
	return &Mount{dir: mountpoint, srv: srv, t: t, log: log}, nil
}

// findFusermount looks for the helper a user other than root mounts
// with, where go-fuse does ($PATH, then /bin; fusermount3, then the older
// fusermount), so that its absence is said in words a user can act on
// rather than as exec's "no such file".
func findFusermount() error {
	for _, name := range []string{"fusermount3", "fusermount"} {
		if _, err := exec.LookPath(name); err == nil {
			return nil
		}
		if _, err := exec.LookPath(filepath.Join("/bin", name)); err == nil {
			return nil
		}
	}
	return errors.New("not root, so the mount needs fusermount3, which is not installed: " +
		"install it (Debian and Ubuntu: apt-get install fuse3; Fedora: dnf install fuse3), or run kmsd as root, or leave --mount out")
}

// Dir is where the tree is mounted.
func (m *Mount) Dir() string { return m.dir }

// Close unmounts. New opens and lookups are refused at once (ESHUTDOWN);
// if a descriptor is still open, so that the kernel refuses to unmount,
// the mount is detached lazily: it leaves the namespace now, and the
// holders see their descriptors fail. Close waits at most wait for the
// server to finish, and never longer.
func (m *Mount) Close(wait time.Duration) error {
	m.t.closing.Store(true)
	// The kernel is asked once (go-fuse's own Unmount retries a busy
	// mount for a while), then told to detach.
	if err := unix.Unmount(m.dir, 0); err != nil {
		m.log.Warn("mount is busy; detaching it lazily", "dir", m.dir, "err", err)
		if err := unix.Unmount(m.dir, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) {
			return fmt.Errorf("detaching %s: %w", m.dir, err)
		}
	}
	done := make(chan struct{})
	go func() { m.srv.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-time.After(wait):
		m.log.Warn("fuse server still busy after unmounting; leaving it to the kernel", "dir", m.dir)
		return nil
	}
}

// detachStale lazily unmounts a dead FUSE mount on dir.
func detachStale(dir string, log *slog.Logger) error {
	_, err := os.Stat(dir)
	if err == nil || !errors.Is(err, syscall.ENOTCONN) {
		return nil
	}
	log.Warn("detaching a stale mount (a previous kmsd did not unmount)", "dir", dir)
	if err := unix.Unmount(dir, unix.MNT_DETACH); err != nil {
		return fmt.Errorf("detaching the stale mount on %s: %w", dir, err)
	}
	return nil
}
