package identity

import (
	"errors"
	"strconv"

	"golang.org/x/sys/unix"
)

// procDir is one process's directory in /proc, held open while its files
// are read. Every file is then that process's: if it exits and its pid
// is reused meanwhile, reads through the old directory fail rather than
// describe the newcomer. And the files are found without walking /proc
// to the pid again for each, which on every FUSE open is a third of the
// identity's cost.
type procDir int

// openProc opens /proc/PID (a thread id names its thread's directory).
func openProc(pid int32) (procDir, error) {
	return openDir(ProcRoot + "/" + strconv.Itoa(int(pid)))
}

// openDir opens any directory as a procDir (tests read plain files
// through it).
func openDir(path string) (procDir, error) {
	fd, err := unix.Open(path, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	return procDir(fd), nil
}

func (d procDir) close() { unix.Close(int(d)) }

// maxProcFile bounds what file reads: the files read here are a few KiB.
const maxProcFile = 1 << 20

// file reads one small file of the directory with plain system calls (no
// poller, no stat). The files read here (status, cgroup) are seq files
// made whole by one call of the kernel's show function: a read fills the
// space it is given or returns the rest, so a read that does not fill it
// was the last, and the read that would return 0 is not made.
func (d procDir) file(name string) ([]byte, error) {
	fd, err := unix.Openat(int(d), name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	buf := make([]byte, 0, 2048)
	for {
		if len(buf) == cap(buf) {
			if len(buf) >= maxProcFile {
				return nil, errors.New("proc file too large")
			}
			buf = append(buf, 0)[:len(buf)]
		}
		room := cap(buf) - len(buf)
		n, err := unix.Read(fd, buf[len(buf):cap(buf)])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, err
		}
		buf = buf[:len(buf)+n]
		if n < room {
			return buf, nil
		}
	}
}

// groups reads the Groups line of status.
func (d procDir) groups() ([]uint32, error) {
	b, err := d.file("status")
	if err != nil {
		return nil, err
	}
	return statusGroups(b)
}

// exe is the executable's path, "" if it cannot be read.
func (d procDir) exe() string {
	buf := make([]byte, unix.PathMax)
	for {
		n, err := unix.Readlinkat(int(d), "exe", buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil || n >= len(buf) {
			return ""
		}
		return string(buf[:n])
	}
}

// unit is the systemd unit its cgroup names, "" if none.
func (d procDir) unit() string {
	b, err := d.file("cgroup")
	if err != nil {
		return ""
	}
	return UnitFromCgroup(b)
}
