package identity

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
)

// The /proc files a FUSE caller's identity is read from are parsed here
// a line at a time in place: on every FUSE open, splitting the whole of
// status into strings (twice) and scanning cgroup cost more than reading
// them.

// line returns b's first line (without its newline) and the rest.
func line(b []byte) (first, rest []byte) {
	first, rest, _ = bytes.Cut(b, []byte{'\n'})
	return first, rest
}

// statusField is the rest of status's first line that starts with name.
func statusField(b []byte, name string) ([]byte, bool) {
	for len(b) > 0 {
		var l []byte
		l, b = line(b)
		if rest, ok := bytes.CutPrefix(l, []byte(name)); ok {
			return rest, true
		}
	}
	return nil, false
}

// statusGroups finds the Groups line in the contents of a status file.
func statusGroups(b []byte) ([]uint32, error) {
	rest, ok := statusField(b, "Groups:")
	if !ok {
		return nil, errors.New("no Groups line")
	}
	out := []uint32{}
	for _, f := range strings.Fields(string(rest)) {
		n, err := strconv.ParseUint(f, 10, 32)
		if err != nil {
			return nil, err
		}
		out = append(out, uint32(n))
	}
	return out, nil
}

// statusTgid finds the process id in the contents of a thread's status
// file (FUSE reports thread ids).
func statusTgid(b []byte) (int32, error) {
	rest, ok := statusField(b, "Tgid:")
	if !ok {
		return 0, errors.New("no Tgid line")
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(rest)), 10, 32)
	return int32(n), err
}

// UnitFromCgroup finds the systemd unit in the contents of /proc/PID/cgroup:
// the cgroup v2 line ("0::PATH") if it names one, else the v1 name=systemd
// line. The unit is the first path component, after any *.slice ones, that
// ends in .service or .scope, as sd_pid_get_unit finds it. A line may end
// in "\r\n".
func UnitFromCgroup(b []byte) string {
	var v1 string
	for len(b) > 0 {
		var l []byte
		l, b = line(b)
		l = bytes.TrimSuffix(l, []byte{'\r'})
		id, rest, ok := bytes.Cut(l, []byte{':'})
		if !ok {
			continue
		}
		ctrl, path, ok := bytes.Cut(rest, []byte{':'})
		if !ok {
			continue
		}
		switch {
		case string(id) == "0" && len(ctrl) == 0:
			if u := unitFromPath(path); u != "" {
				return u
			}
		case string(ctrl) == "name=systemd":
			v1 = unitFromPath(path)
		}
	}
	return v1
}

func unitFromPath(path []byte) string {
	for {
		c, rest, more := bytes.Cut(path, []byte{'/'})
		switch {
		case len(c) == 0 || bytes.HasSuffix(c, []byte(".slice")):
		case bytes.HasSuffix(c, []byte(".service")) || bytes.HasSuffix(c, []byte(".scope")):
			return string(c)
		default:
			return ""
		}
		if !more {
			return ""
		}
		path = rest
	}
}
