package socket

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// ListenConfig says where and how to make the socket.
type ListenConfig struct {
	Path  string
	Mode  os.FileMode // default 0660
	Group string      // group name or numeric gid; "" keeps the process's group
}

// Listen makes kmsd's Unix socket. A live socket at the path (one that
// accepts a connection) is an error; a stale one is removed; anything that
// is not a socket is left alone and is an error. The socket is given Mode
// and Group where no one else can swap it for a link that chmod would
// follow: in place in a directory only kmsd's user may write, else in a
// private directory beside the path, then renamed into place. It is never
// briefly open to others, and kmsd never changes the mode of a file it did
// not make. A directory that others may
// write and that is not sticky is refused: anyone could replace the
// socket there. The listener removes the socket when closed.
func Listen(cfg ListenConfig) (*Socket, error) {
	if cfg.Mode == 0 {
		cfg.Mode = 0o660
	}
	if err := checkSocketDir(filepath.Dir(cfg.Path)); err != nil {
		return nil, err
	}
	if err := removeStale(cfg.Path); err != nil {
		return nil, err
	}
	gid := -1
	if cfg.Group != "" {
		g, err := lookupGroup(cfg.Group)
		if err != nil {
			return nil, err
		}
		gid = g
	}
	// In a directory only kmsd's user may write, no one can swap the
	// socket: it is made in place. Elsewhere (a sticky, shared directory)
	// it is made in a private directory first.
	tmp := cfg.Path
	if !ownedOnly(filepath.Dir(cfg.Path)) {
		private, err := os.MkdirTemp(filepath.Dir(cfg.Path), ".kmsd-socket-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(private)
		tmp = filepath.Join(private, "s")
	}
	old := syscall.Umask(0o177)
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: tmp, Net: "unix"})
	syscall.Umask(old)
	if err != nil {
		return nil, err
	}
	l.SetUnlinkOnClose(false) // its name is about to change: Socket.Close removes it
	fail := func(err error) (*Socket, error) {
		l.Close()
		return nil, err
	}
	if gid >= 0 {
		if err := os.Lchown(tmp, -1, gid); err != nil {
			return fail(fmt.Errorf("chown socket: %w", err))
		}
	}
	if err := os.Chmod(tmp, cfg.Mode); err != nil {
		return fail(fmt.Errorf("chmod socket: %w", err))
	}
	var st unix.Stat_t
	if err := unix.Lstat(tmp, &st); err != nil {
		return fail(err)
	}
	if tmp != cfg.Path {
		if err := os.Rename(tmp, cfg.Path); err != nil {
			return fail(fmt.Errorf("placing the socket: %w", err))
		}
	}
	return &Socket{UnixListener: l, path: cfg.Path, dev: st.Dev, ino: st.Ino}, nil
}

// ownedOnly reports whether dir may be written by kmsd's user alone: its
// owner, with no write permission for group or others.
func ownedOnly(dir string) bool {
	var st unix.Stat_t
	return unix.Stat(dir, &st) == nil && int(st.Uid) == os.Geteuid() && st.Mode&0o022 == 0
}

// checkSocketDir refuses a directory that others may write unless it is
// sticky (as /tmp is: there only an entry's owner may remove or replace
// it).
func checkSocketDir(dir string) error {
	st, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if st.Mode().Perm()&0o002 != 0 && st.Mode()&os.ModeSticky == 0 {
		return fmt.Errorf("%s may be written by every user and is not sticky: anyone could replace kmsd's socket there; choose another directory", dir)
	}
	return nil
}

// removeStale removes a socket no one serves at path; anything else
// there is an error.
func removeStale(path string) error {
	st, err := os.Lstat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil
	case err != nil:
		return err
	case st.Mode()&os.ModeSocket == 0:
		return fmt.Errorf("%s exists and is not a socket; not touching it", path)
	}
	if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
		c.Close()
		return fmt.Errorf("%s: another kmsd is serving this socket", path)
	}
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("remove stale socket: %w", err)
	}
	return nil
}

// Socket is the listener Listen makes. Closing it removes its socket
// file, if the file at the path is still the one it made.
type Socket struct {
	*net.UnixListener
	path     string
	dev, ino uint64
}

// Close stops listening and removes the socket file kmsd made.
func (s *Socket) Close() error {
	err := s.UnixListener.Close()
	var st unix.Stat_t
	if unix.Lstat(s.path, &st) == nil && st.Dev == s.dev && st.Ino == s.ino {
		os.Remove(s.path)
	}
	return err
}

func lookupGroup(name string) (int, error) {
	if gid, err := strconv.Atoi(name); err == nil {
		return gid, nil
	}
	g, err := user.LookupGroup(name)
	if err != nil {
		return 0, fmt.Errorf("socket group: %w", err)
	}
	return strconv.Atoi(g.Gid)
}
