package main

import (
	"fmt"
	"io"
	"math"
)

// target is one of the hot path's targets (issue 12): what is measured,
// the goal, and whether the goal is a floor or a ceiling.
type target struct {
	label  string
	unit   string
	goal   float64
	atMost bool // the goal is a ceiling (latency, memory, a cost share)
	value  func(rs *results) (float64, bool)
}

// targets are checked in the order listed.
var targets = []target{
	{"batched Encrypt 32 B, batches of 4,096", "items/s", 1e6, false, median(kmsdName("Encrypt", "32", "batch=4096"), "ops/s")},
	{"  the same, over the raw XAES seal on every core", "%", 12, false, func(rs *results) (float64, bool) {
		return percentOf(rs, kmsdName("Encrypt", "32", "batch=4096"), rawName("32"), "ops/s")
	}},
	{"64 concurrent callers on one client, Encrypt 32 B", "ops/s", 5e5, false, median(kmsdName("Encrypt", "32", "callers=64"), "ops/s")},
	{"16 processes x 4 callers, Encrypt 32 B", "ops/s", 3e5, false, median(kmsdName("Encrypt", "32", "procs=16x4"), "ops/s")},
	{"one synchronous caller, Encrypt 32 B, p50", "µs", 20, true, median(kmsdName("Encrypt", "32", "sync"), "p50-µs")},
	{"GenerateDataKey, 64 concurrent callers on one client", "ops/s", 5e5, false, median(kmsdName("GenerateDataKey", "32", "callers=64"), "ops/s")},
	{"batched Encrypt 4 KiB (best batch size), over the raw XAES seal's bytes/s", "%", 25, false, func(rs *results) (float64, bool) {
		a, ok1 := percentOf(rs, kmsdName("Encrypt", "4096", "batch=256"), rawName("4096"), "B/s")
		b, ok2 := percentOf(rs, kmsdName("Encrypt", "4096", "batch=4096"), rawName("4096"), "B/s")
		return math.Max(a, b), ok1 || ok2
	}},
	{"FUSE, 1 caller (open, write, read, close)", "tx/s", 1e4, false, median(kmsdName("Encrypt", "32", "fuse=1"), "ops/s")},
	{"FUSE, 16 callers", "tx/s", 3e4, false, median(kmsdName("Encrypt", "32", "fuse=16"), "ops/s")},
	{"the blob seal's share of kmsd's CPU, batched Encrypt 32 B", "%", 35, false, median(profileName, "seal-%")},
	{"the audit trail's share of kmsd's CPU, batched Encrypt 32 B", "%", 5, true, median(profileName, "audit-%")},
	{"the audit trail's share of kmsd's CPU, single Encrypt 32 B from 16 processes x 4", "%", 10, true, median(singlesProfileName, "audit-%")},
	{"kmsd's allocations per batch item, batched Encrypt 32 B", "allocs", 0.1, true, median(kmsdName("Encrypt", "32", "batch=4096"), "server-allocs/item")},
	{"idle RSS with 10,000 keys", "MiB", 48, true, median("Memory/keys=10000", "idle-RSS-MiB")},
	{"peak RSS under batched Encrypt 32 B", "MiB", 64, true, func(rs *results) (float64, bool) {
		peak, any := 0.0, false
		for _, m := range []string{"batch=16", "batch=256", "batch=4096"} {
			if v, ok := rs.median(kmsdName("Encrypt", "32", m), "peak-RSS-MiB"); ok {
				peak, any = math.Max(peak, v), true
			}
		}
		return peak, any
	}},
	{"overload (1 GiB asked at once): items throttled", "items/s", 1, false, median(overloadName, "throttled/s")},
}

// profileName and singlesProfileName are the lines bench/profile.sh adds
// to the suite's output.
const (
	profileName        = "Profile/op=Encrypt/size=32/mode=batch=4096"
	singlesProfileName = "Profile/op=Encrypt/size=32/mode=procs=16x4"
)

func median(name, unit string) func(*results) (float64, bool) {
	return func(rs *results) (float64, bool) { return rs.median(name, unit) }
}

// percentOf is name's median in unit as a percentage of base's.
func percentOf(rs *results, name, base, unit string) (float64, bool) {
	v, ok1 := rs.median(name, unit)
	b, ok2 := rs.median(base, unit)
	if !ok1 || !ok2 || b == 0 {
		return 0, false
	}
	return 100 * v / b, true
}

// writeTargets lists every target with its figure before the hot-path
// work (from before, when given), now, and now over the goal.
func writeTargets(w io.Writer, rs, before *results) {
	fmt.Fprintln(w, "| target | goal | before | now | now / goal | met |")
	fmt.Fprintln(w, "|---|--:|--:|--:|--:|:-:|")
	for _, t := range targets {
		now, ok := t.value(rs)
		was, wasOK := 0.0, false
		if before != nil {
			was, wasOK = t.value(before)
		}
		met, over := "—", "—"
		if ok {
			met = "no"
			if (t.atMost && now <= t.goal) || (!t.atMost && now >= t.goal) {
				met = "yes"
			}
			over = times(now / t.goal)
		}
		bound := "≥ "
		if t.atMost {
			bound = "≤ "
		}
		fmt.Fprintf(w, "| %s | %s%s %s | %s | %s | %s | %s |\n", t.label, bound, amount(t.goal), t.unit,
			amountIf(was, wasOK), amountIf(now, ok), over, met)
	}
}

// times formats a ratio as a multiple, at least two significant digits.
func times(r float64) string {
	switch {
	case r >= 10:
		return fmt.Sprintf("%.0f×", r)
	case r >= 0.1:
		return fmt.Sprintf("%.2f×", r)
	default:
		return fmt.Sprintf("%.3f×", r)
	}
}

// amount formats a figure: thousands separated when large, two
// significant decimals when small.
func amount(v float64) string {
	switch a := math.Abs(v); {
	case a >= 100:
		return num(v)
	case a >= 1:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.3f", v)
	}
}

func amountIf(v float64, ok bool) string {
	if !ok {
		return "—"
	}
	return amount(v)
}
