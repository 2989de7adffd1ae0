package measure

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"time"
)

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat's CPU times: 100 on
// every Linux architecture Go supports.
const clockTicks = 100

// CPUTime is the user and system CPU time process pid has used, from
// /proc/<pid>/stat; 0 if pid is 0 or the file cannot be read.
func CPUTime(pid int) time.Duration {
	if pid == 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name (field 2) may hold spaces; fields are counted
	// after its closing parenthesis. utime and stime are fields 14 and 15.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := bytes.Fields(b[i+1:])
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(string(f[11]), 10, 64)
	st, _ := strconv.ParseInt(string(f[12]), 10, 64)
	return time.Duration(ut+st) * time.Second / clockTicks
}

// RSS returns process pid's resident set size now and its peak (VmRSS and
// VmHWM of /proc/<pid>/status), in bytes.
func RSS(pid int) (now, peak int64, err error) {
	v, err := status(pid)
	if err != nil {
		return 0, 0, err
	}
	now, peak = v["VmRSS"], v["VmHWM"]
	if now == 0 || peak == 0 {
		return 0, 0, fmt.Errorf("/proc/%d/status has no VmRSS or VmHWM", pid)
	}
	return now, peak, nil
}

// RSSParts splits process pid's resident set size now (RssAnon, RssFile
// and RssShmem of /proc/<pid>/status), in bytes: anonymous memory (the
// heap, the stacks, the runtime's own), pages of mapped files (the
// executable, its libraries, and files the process maps, such as a
// store's tables), and shared memory (such as the rings' memfds).
func RSSParts(pid int) (anon, file, shmem int64, err error) {
	v, err := status(pid)
	if err != nil {
		return 0, 0, 0, err
	}
	if _, ok := v["RssAnon"]; !ok {
		return 0, 0, 0, fmt.Errorf("/proc/%d/status has no RssAnon", pid)
	}
	return v["RssAnon"], v["RssFile"], v["RssShmem"], nil
}

// status reads the sizes (the "N kB" lines) of /proc/<pid>/status, in bytes.
func status(pid int) (map[string]int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return nil, err
	}
	v := map[string]int64{}
	for line := range bytes.Lines(b) {
		k, rest, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		f := bytes.Fields(rest)
		if len(f) != 2 || string(f[1]) != "kB" {
			continue
		}
		if n, err := strconv.ParseInt(string(f[0]), 10, 64); err == nil {
			v[string(k)] = n << 10
		}
	}
	return v, nil
}

// ResetPeakRSS starts process pid's peak RSS afresh from its current RSS
// (writing 5 to /proc/<pid>/clear_refs), so that the next RSS call reports
// the peak since now. It needs the right to write that file (root, or the
// process's owner).
func ResetPeakRSS(pid int) error {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0)
}
