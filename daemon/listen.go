package daemon

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/user"
	"strconv"
	"syscall"
	"time"
)

// ListenConfig says where and how to make the socket.
type ListenConfig struct {
	Path  string
	Mode  os.FileMode // default 0660
	Group string      // group name or numeric gid; "" keeps the process's group
}

// Listen makes kmsd's Unix socket. A live socket at the path (one that
// accepts a connection) is an error; a stale one is removed; anything that
// is not a socket is left alone and is an error. The socket is created
// with no permissions for anyone but the owner and then given Mode and
// Group, so it is never briefly open to others.
func Listen(cfg ListenConfig) (*net.UnixListener, error) {
	if cfg.Mode == 0 {
		cfg.Mode = 0o660
	}
	if st, err := os.Lstat(cfg.Path); err == nil {
		if st.Mode()&os.ModeSocket == 0 {
			return nil, fmt.Errorf("%s exists and is not a socket; not touching it", cfg.Path)
		}
		if c, err := net.DialTimeout("unix", cfg.Path, time.Second); err == nil {
			c.Close()
			return nil, fmt.Errorf("%s: another kmsd is serving this socket", cfg.Path)
		}
		if err := os.Remove(cfg.Path); err != nil {
			return nil, fmt.Errorf("remove stale socket: %w", err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	old := syscall.Umask(0o177)
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: cfg.Path, Net: "unix"})
	syscall.Umask(old)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*net.UnixListener, error) {
		l.Close()
		return nil, err
	}
	if cfg.Group != "" {
		gid, err := lookupGroup(cfg.Group)
		if err != nil {
			return fail(err)
		}
		if err := os.Chown(cfg.Path, -1, gid); err != nil {
			return fail(fmt.Errorf("chown socket: %w", err))
		}
	}
	if err := os.Chmod(cfg.Path, cfg.Mode); err != nil {
		return fail(fmt.Errorf("chmod socket: %w", err))
	}
	return l, nil
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
