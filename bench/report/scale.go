package main

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// scaleRows are BenchmarkScale's rows, in the order the table lists them.
var scaleRows = []struct{ label, name string }{
	{"Encrypt 32 B, batches of 256", "op=Encrypt/size=32/mode=batch=256"},
	{"Decrypt 32 B, batches of 256", "op=Decrypt/size=32/mode=batch=256"},
	{"Encrypt 4 KiB, batches of 256", "op=Encrypt/size=4096/mode=batch=256"},
	{"Encrypt 32 B, 8 processes x 8 callers", "op=Encrypt/size=32/mode=procs=8x8"},
	{"GenerateDataKey, 64 callers on one client", "op=GenerateDataKey/size=32/mode=procs=1x64"},
	{"echo server, 8 processes x 8 callers", "echo/size=32/mode=procs=8x8"},
}

// scaleName is BenchmarkScale's name for row at n workers.
func scaleName(n int, row string) string {
	return "Scale/workers=" + strconv.Itoa(n) + "/" + row
}

// nsPerItem is name's median of server-ns/item, which benchfmt reads as
// seconds (server-sec/item), in nanoseconds.
func (rs *results) nsPerItem(name string) (float64, bool) {
	v, ok := rs.median(name, "server-sec/item")
	return v * 1e9, ok
}

// scaleWorkers is the worker counts the run has, in order.
func (rs *results) scaleWorkers() []int {
	var ns []int
	for name := range rs.vals {
		rest, ok := strings.CutPrefix(name, "Scale/workers=")
		if !ok {
			continue
		}
		n, err := strconv.Atoi(rest[:strings.IndexByte(rest+"/", '/')])
		if err == nil && !slices.Contains(ns, n) {
			ns = append(ns, n)
		}
	}
	slices.Sort(ns)
	return ns
}

// writeScale is BenchmarkScale's table: for every row, kmsd's CPU time
// per item (server-ns/item) at each worker count, its ratio to one
// worker's, and the throughput; then the targets that read it. It writes
// nothing for a run without BenchmarkScale.
func writeScale(w io.Writer, rs *results) {
	ns := rs.scaleWorkers()
	if len(ns) == 0 {
		return
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "**CPU per item as kmsd gets cores** (BenchmarkScale; `bench/scale.sh` on a bigger machine): "+
		"kmsd with `--workers N` pinned to N CPUs, its callers separate processes pinned apart "+
		"(sharing the CPUs where N reaches half the machine). "+
		"Each cell is kmsd's CPU time per item in ns (from /proc/PID/stat), × its ratio to N=1, and items/s.")
	fmt.Fprintln(w)
	head, rule := "| row |", "|---|"
	for _, n := range ns {
		head += fmt.Sprintf(" N=%d |", n)
		rule += "--:|"
	}
	fmt.Fprintln(w, head)
	fmt.Fprintln(w, rule)
	for _, r := range scaleRows {
		line := "| " + r.label + " |"
		base, baseOK := rs.nsPerItem(scaleName(ns[0], r.name))
		for _, n := range ns {
			v, ok := rs.nsPerItem(scaleName(n, r.name))
			ops, opsOK := rs.median(scaleName(n, r.name), "ops/s")
			if !ok || !opsOK {
				line += " — |"
				continue
			}
			grew := "—"
			if baseOK && base > 0 {
				grew = times(v / base)
			}
			line += fmt.Sprintf(" %s ns, %s, %s/s |", num(v), grew, num(ops))
		}
		fmt.Fprintln(w, line)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| target | goal | now | met |")
	fmt.Fprintln(w, "|---|--:|--:|:-:|")
	for _, t := range scaleTargets(rs, ns) {
		met := "no"
		if t.ok {
			met = "yes"
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", t.label, t.goal, t.now, met)
	}
}

// scaleTarget is one of the scaling issue's targets, as read from a run.
type scaleTarget struct {
	label, goal, now string
	ok               bool
}

// scaleTargets reads the targets of issue 27 that BenchmarkScale
// measures: the growth of CPU per item from 1 to 2 workers (and 1 to 8
// where the run has 8), one worker's batch cost, and singles against the
// echo server.
func scaleTargets(rs *results, ns []int) []scaleTarget {
	var ts []scaleTarget
	grow := func(n int, most float64) {
		if !slices.Contains(ns, 1) || !slices.Contains(ns, n) {
			return
		}
		for _, r := range scaleRows[:5] {
			a, ok1 := rs.nsPerItem(scaleName(1, r.name))
			b, ok2 := rs.nsPerItem(scaleName(n, r.name))
			if ok1 && ok2 && a > 0 {
				ts = append(ts, scaleTarget{fmt.Sprintf("%s: CPU per item at N=%d over N=1", r.label, n),
					"≤ " + times(most), times(b / a), b/a <= most})
			}
		}
	}
	grow(2, 1.1)
	grow(8, 1.25)
	if v, ok := rs.nsPerItem(scaleName(1, scaleRows[0].name)); ok {
		ts = append(ts, scaleTarget{"Encrypt 32 B batches: kmsd's CPU per item at N=1", "≤ 300 ns", num(v) + " ns", v <= 300})
	}
	for _, n := range ns {
		k, ok1 := rs.nsPerItem(scaleName(n, scaleRows[3].name))
		e, ok2 := rs.nsPerItem(scaleName(n, scaleRows[5].name))
		if ok1 && ok2 && e > 0 {
			ts = append(ts, scaleTarget{fmt.Sprintf("singles (8x8): kmsd's CPU per request over the echo server's, N=%d", n),
				"≤ 0.75×", times(k / e), k/e <= 0.75})
		}
	}
	return ts
}
