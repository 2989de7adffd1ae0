package identity

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The parsers as they were first written (splitting the whole file into
// strings; a line scanner for cgroup), kept as the oracles the in-place
// ones must agree with.

func statusGroupsRef(b []byte) ([]uint32, bool) {
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "Groups:"); ok {
			out := []uint32{}
			for _, f := range strings.Fields(rest) {
				n, err := strconv.ParseUint(f, 10, 32)
				if err != nil {
					return nil, false
				}
				out = append(out, uint32(n))
			}
			return out, true
		}
	}
	return nil, false
}

func statusTgidRef(b []byte) (int32, bool) {
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "Tgid:"); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(rest), 10, 32)
			return int32(n), err == nil
		}
	}
	return 0, false
}

func unitFromCgroupRef(b []byte) string {
	var v1 string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) != 3 {
			continue
		}
		switch {
		case parts[0] == "0" && parts[1] == "":
			if u := unitFromPathRef(parts[2]); u != "" {
				return u
			}
		case parts[1] == "name=systemd":
			v1 = unitFromPathRef(parts[2])
		}
	}
	return v1
}

func unitFromPathRef(path string) string {
	for _, c := range strings.Split(path, "/") {
		switch {
		case c == "" || strings.HasSuffix(c, ".slice"):
			continue
		case strings.HasSuffix(c, ".service") || strings.HasSuffix(c, ".scope"):
			return c
		default:
			return ""
		}
	}
	return ""
}

// status is the shape of /proc/PID/status around the lines read.
const status = "Name:\tbench.test\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t4242\nNgid:\t0\nPid:\t4250\nPPid:\t1\n" +
	"Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nFDSize:\t64\nGroups:\t0 4 27 4294967295 \nNStgid:\t4242\nVmPeak:\t  123 kB\n"

func TestStatusFields(t *testing.T) {
	for _, tc := range []struct {
		in     string
		tgid   int32
		groups []uint32
		ok     bool
	}{
		{in: status, tgid: 4242, groups: []uint32{0, 4, 27, 4294967295}, ok: true},
		{in: "Tgid:\t7\nGroups:\t\n", tgid: 7, groups: []uint32{}, ok: true},
		{in: "Tgid:\t7\nGroups:\t1 x\n", tgid: 7, ok: false},        // a group that is not a number
		{in: "Tgid:\t7\nGroups:\t4294967296\n", tgid: 7, ok: false}, // past 32 bits
		{in: "Groups:\t5", tgid: 0, groups: []uint32{5}, ok: false}, // no Tgid; the last line unended
		{in: "", ok: false},
	} {
		g, err := statusGroups([]byte(tc.in))
		tg, terr := statusTgid([]byte(tc.in))
		if tc.ok && (err != nil || terr != nil || tg != tc.tgid || !slices.Equal(g, tc.groups)) ||
			!tc.ok && err == nil && terr == nil {
			t.Errorf("%q: tgid %d (%v), groups %v (%v)", tc.in, tg, terr, g, err)
		}
	}
}

// FuzzProcFiles: on any bytes, the in-place parsers of status and cgroup
// agree with the oracles (a cgroup line longer than the oracle's scanner
// takes, 64 KiB, is past what the kernel writes, and left out).
func FuzzProcFiles(f *testing.F) {
	f.Add([]byte(status))
	f.Add([]byte("12:pids:/system.slice/x.service\n9:name=systemd:/system.slice/cron.service\r\n0::/\n"))
	f.Add([]byte("0::/user.slice/user-1000.slice/user@1000.service/app.slice/bar.service"))
	f.Add([]byte("Groups:\t1\t2\nTgid: 3 \n0::/a.slice//b.scope/\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		g, err := statusGroups(b)
		rg, rok := statusGroupsRef(b)
		if (err == nil) != rok || !slices.Equal(g, rg) || (g == nil) != (rg == nil) {
			t.Fatalf("groups %v (%v), oracle %v (%v)", g, err, rg, rok)
		}
		tg, err := statusTgid(b)
		rt, rok := statusTgidRef(b)
		if (err == nil) != rok || rok && tg != rt {
			t.Fatalf("tgid %d (%v), oracle %d (%v)", tg, err, rt, rok)
		}
		for l := range bytes.SplitSeq(b, []byte{'\n'}) {
			if len(l) >= bufio.MaxScanTokenSize-1 {
				return
			}
		}
		if u, ru := UnitFromCgroup(b), unitFromCgroupRef(b); u != ru {
			t.Fatalf("unit %q, oracle %q", u, ru)
		}
	})
}

// BenchmarkProcFiles is the parsing of one FUSE open's status and cgroup.
func BenchmarkProcFiles(b *testing.B) {
	cg := []byte("0::/user.slice/user-1000.slice/session-3.scope\n")
	for b.Loop() {
		statusTgid([]byte(status))
		statusGroups([]byte(status))
		UnitFromCgroup(cg)
	}
}

// TestProcDirFileWhole: file reads a file whole whatever its size around
// its first buffer's (2 KiB: a status with many groups is larger), the
// last read being the first that does not fill its space.
func TestProcDirFileWhole(t *testing.T) {
	dir := t.TempDir()
	d, err := openDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.close()
	for _, n := range []int{0, 1, 2047, 2048, 2049, 4096, 10000} {
		want := bytes.Repeat([]byte("0123456789abcdef"), n/16+1)[:n]
		name := "f" + strconv.Itoa(n)
		if err := os.WriteFile(filepath.Join(dir, name), want, 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := d.file(name)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%d bytes: read %d, %v", n, len(got), err)
		}
	}
	self, err := openProc(int32(os.Getpid()))
	if err != nil {
		t.Fatal(err)
	}
	defer self.close()
	got, err := self.file("status")
	want, _ := os.ReadFile("/proc/self/status")
	if err != nil || !bytes.HasPrefix(got, []byte("Name:")) || !bytes.Contains(got, []byte("\nGroups:")) || len(got) < len(want)/2 {
		t.Errorf("status: %d bytes (%v), os.ReadFile %d", len(got), err, len(want))
	}
}
