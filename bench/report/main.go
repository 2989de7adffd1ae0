// Command report turns the output of kmsd's benchmark suite (bench/, and
// the peer's, bench/peer) into what `make bench` shows: a markdown table
// of medians with each figure's ratio to the raw limit and to the peer,
// and an SVG plot of throughput against payload size and against
// concurrency.
//
//	go run ./bench/report -table bench/results/table.md -svg bench/results/throughput.svg \
//		-before bench/results/before-hot-path.txt bench/results/kmsd.txt bench/results/peer.txt
//
// The inputs are Go benchmark output (benchstat's format); the table goes
// to standard output as well. Every figure is the median of the runs
// (-count) of its benchmark. The table begins with the hot path's targets,
// each with its figure in the -before run (the code before that work, on
// the same machine), now, and over its goal. With -scale it prints only
// the table of kmsd's CPU per item by worker count (BenchmarkScale), as
// bench/scale.sh does.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"golang.org/x/perf/benchfmt"
)

func main() {
	table := flag.String("table", "", "also write the markdown table to this file")
	svg := flag.String("svg", "", "write the plot to this file")
	beforeFile := flag.String("before", "", "benchmark output of the code before the hot-path work, for the targets' before column")
	scaleOnly := flag.Bool("scale", false, "print only BenchmarkScale's table of CPU per item (bench/scale.sh)")
	flag.Parse()
	rs, err := readFiles(flag.Args())
	if err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		os.Exit(1)
	}
	var before *results
	if *beforeFile != "" {
		if before, err = readFiles([]string{*beforeFile}); err != nil {
			fmt.Fprintln(os.Stderr, "report:", err)
			os.Exit(1)
		}
	}
	var md strings.Builder
	if *scaleOnly {
		writeScale(&md, rs)
		fmt.Print(md.String())
		return
	}
	writeTable(&md, rs, before)
	fmt.Print(md.String())
	if *table != "" {
		if err := os.WriteFile(*table, []byte(md.String()), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "report:", err)
			os.Exit(1)
		}
	}
	if *svg != "" {
		if err := os.WriteFile(*svg, plot(rs), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "report:", err)
			os.Exit(1)
		}
	}
}

// results holds every benchmark's values by name (without the
// "Benchmark" prefix and the -GOMAXPROCS suffix) and unit, one value per
// run; and the machine the runs came from (the "cpu:" line).
type results struct {
	vals  map[string]map[string][]float64
	cpu   string
	procs string // GOMAXPROCS, from the names' -N suffix
}

// machine describes where the runs came from.
func (rs *results) machine() string {
	m := or(rs.cpu, "unknown CPU")
	if rs.procs != "" {
		m += ", GOMAXPROCS " + rs.procs
	}
	return m
}

func readFiles(paths []string) (*results, error) {
	rs := &results{vals: map[string]map[string][]float64{}}
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return nil, err
		}
		err = rs.read(f, p)
		f.Close()
		if err != nil {
			return nil, err
		}
	}
	return rs, nil
}

func (rs *results) read(r io.Reader, name string) error {
	br := benchfmt.NewReader(r, name)
	for br.Scan() {
		res, ok := br.Result().(*benchfmt.Result)
		if !ok {
			continue // syntax errors are lines that are not results (logs)
		}
		if c := res.GetConfig("cpu"); c != "" {
			rs.cpu = c
		}
		key, procs := baseName(res.Name)
		if procs != "" {
			rs.procs = procs
		}
		m := rs.vals[key]
		if m == nil {
			m = map[string][]float64{}
			rs.vals[key] = m
		}
		for _, v := range res.Values {
			m[v.Unit] = append(m[v.Unit], v.Value)
		}
	}
	return br.Err()
}

// baseName is a benchmark's name without its -GOMAXPROCS suffix, and
// that suffix's number.
func baseName(n benchfmt.Name) (name, procs string) {
	base, parts := n.Parts()
	var b strings.Builder
	b.Write(base)
	for _, p := range parts {
		if len(p) > 0 && p[0] == '-' {
			procs = string(p[1:])
			continue
		}
		b.Write(p)
	}
	return b.String(), procs
}

// median is the median of name's values in unit, and whether it has any.
func (rs *results) median(name, unit string) (float64, bool) {
	v := slices.Clone(rs.vals[name][unit])
	if len(v) == 0 {
		return 0, false
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2], true
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2, true
}
