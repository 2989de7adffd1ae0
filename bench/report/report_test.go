package main

import (
	"encoding/xml"
	"os"
	"strings"
	"testing"
)

func sample(t *testing.T) *results {
	t.Helper()
	rs, err := readFiles([]string{"testdata/sample.txt"})
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

func TestMedians(t *testing.T) {
	rs := sample(t)
	for _, c := range []struct {
		name, unit string
		want       float64
	}{
		{"Raw/seal=XAES/size=32", "ops/s", 2e6},                     // odd count: the middle
		{"KMSD/op=Encrypt/size=32/mode=sync", "ops/s", 20000},       // even count: the mean of the two middle
		{"KMSD/op=Encrypt/size=32/mode=sync", "B/s", 600000},        // MB/s is read as B/s
		{"KMSD/op=Encrypt/size=32/mode=batch=256", "ops/s", 250000}, // one run
		{"Peer/op=Encrypt/size=32/mode=callers=64", "ops/s", 12500}, // the peer file's names
		{"KMSD/op=Encrypt/size=32/mode=sync", "peak-RSS-MiB", 21},   // custom units
	} {
		if got, ok := rs.median(c.name, c.unit); !ok || got != c.want {
			t.Errorf("median(%s, %s) = %v, %v; want %v", c.name, c.unit, got, ok, c.want)
		}
	}
	if _, ok := rs.median("KMSD/op=Decrypt/size=32/mode=sync", "ops/s"); ok {
		t.Error("a benchmark not in the run has a median")
	}
	if rs.cpu != "Test CPU @ 1GHz" {
		t.Errorf("cpu %q", rs.cpu)
	}
}

func TestTable(t *testing.T) {
	before, err := readFiles([]string{"testdata/before.txt"})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	writeTable(&b, sample(t), before)
	out := b.String()
	for _, want := range []string{
		"machine: Test CPU @ 1GHz, GOMAXPROCS 2.",
		// Targets: before, now, over the goal, met.
		"| batched Encrypt 32 B, batches of 4,096 | ≥ 1,000,000 items/s | 340,000 | 1,200,000 | 1.20× | yes |",
		"|   the same, over the raw XAES seal on every core | ≥ 12.0 % | — | 60.0 | 5.00× | yes |",
		"| one synchronous caller, Encrypt 32 B, p50 | ≤ 20.0 µs | 180 | 60.0 | 3.00× | no |",
		"| GenerateDataKey, 64 concurrent callers on one client | ≥ 500,000 ops/s | — | — | — | — |",
		"| 16 processes x 4 callers, Encrypt 32 B | ≥ 300,000 ops/s | — | 60,000 | 0.20× | no |",
		"| the blob seal's share of kmsd's CPU, batched Encrypt 32 B | ≥ 35.0 % | — | 28.5 | 0.81× | no |",
		"| the audit trail's share of kmsd's CPU, batched Encrypt 32 B | ≤ 5.0 % | — | 2.5 | 0.50× | yes |",
		"| kmsd's allocations per batch item, batched Encrypt 32 B | ≤ 0.100 allocs | — | 0.080 | 0.80× | yes |",
		"| peak RSS under batched Encrypt 32 B | ≤ 64.0 MiB | — | 70.0 | 1.09× | no |",
		"| FUSE, 1 caller (open, write, read, close) | ≥ 10,000 tx/s | — | — | — | — |",
		// 20,000 ops/s over the raw 2,000,000 is 1%; over the peer's sync 5,000 is 4x.
		"| Encrypt 32 B | 1 synchronous caller | 20,000 | 0.6 | 60 | 94 | 15.00 | 0.60 | 21 | 1.0% | 5,000 | 4.00× |",
		// A batch and 16 processes are compared with the peer's 64 callers.
		"| Encrypt 32 B | batches of 256 | 250,000 | 8.0 | — | — | — | — | 40 | 0.12× | 12,500 | 20× |",
		"| Encrypt 32 B | 16 processes x 4 callers | 60,000 | 2.0 | — | — | — | — | — | 3.0% | 12,500 | 4.80× |",
		"| XAES-256-GCM seal, in process, every core | 32 | 2,000,000 | 32.0 | — |",
		"| append a record-sized line and fdatasync it | 400 | 5,000 | — | 180.0 |",
		"RSS with 10,000 keys is 45 MiB idle (18 s after the last request; 80 MiB at once): 26 MiB anonymous (heap and runtime), 19 MiB of mapped files (mostly kmsd's executable);",
		"80,000 items/s answered, 4,000 items/s throttled, kmsd's peak RSS 120 MiB",
		"| `interval` (default): written, flushed within 5 ms | 15 | 40,000 | 250,000 | 600,000 |",
		"| `batch`: flushed with its group before the answer | 250 | 4,000 | 0 | 0 |",
		"takes 180 µs (p50) in the same run",
		// The AWS endpoint: over TCP 2,500, half the peer's 5,000; the
		// msgpack socket's 20,000 is 8 times the endpoint's.
		"| Encrypt 32 B | 1 synchronous caller | 2,500 | 3,000 | 20,000 | 5,000 | 0.50× | 8.00× |",
		// A key in a token: 12,000 over kmsd's own 42,000.
		"| 1 synchronous caller | 12,000 | 42,000 | 0.29× |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the table lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "batches of 16 |") || strings.Contains(out, "Decrypt") {
		t.Errorf("the table has rows for benchmarks not run:\n%s", out)
	}
}

func TestPlot(t *testing.T) {
	svg := plot(sample(t))
	d := xml.NewDecoder(strings.NewReader(string(svg)))
	lines := 0
	for {
		tok, err := d.Token()
		if err != nil {
			if err.Error() != "EOF" {
				t.Fatalf("the SVG is not well-formed: %v", err)
			}
			break
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "polyline" {
			lines++
		}
	}
	if lines == 0 {
		t.Error("the plot draws no line")
	}
	if !strings.Contains(string(svg), "(not measured)") {
		t.Error("series without data are not marked")
	}
}

func TestBadInput(t *testing.T) {
	if _, err := readFiles([]string{"testdata/missing.txt"}); !os.IsNotExist(err) {
		t.Errorf("a missing file: %v", err)
	}
}

// TestScale: the table of CPU per item has each row's median at each
// worker count with its ratio to one worker's, and the targets read
// from them are met or not as the figures say.
func TestScale(t *testing.T) {
	rs, err := readFiles([]string{"testdata/scale.txt"})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	writeScale(&b, rs)
	out := b.String()
	for _, want := range []string{
		"| row | N=1 | N=2 |",
		"| Encrypt 32 B, batches of 256 | 820 ns, 1.00×, 500,000/s | 860 ns, 1.05×, 900,000/s |", // medians: 820 of 800, 820, 9000
		"| Decrypt 32 B, batches of 256 | — | — |",
		"| Encrypt 32 B, batches of 256: CPU per item at N=2 over N=1 | ≤ 1.10× | 1.05× | yes |",
		"| Encrypt 32 B, 8 processes x 8 callers: CPU per item at N=2 over N=1 | ≤ 1.10× | 1.25× | no |",
		"| Encrypt 32 B batches: kmsd's CPU per item at N=1 | ≤ 300 ns | 820 ns | no |",
		"| singles (8x8): kmsd's CPU per request over the echo server's, N=1 | ≤ 0.75× | 1.20× | no |",
		"| singles (8x8): kmsd's CPU per request over the echo server's, N=2 | ≤ 0.75× | 1.25× | no |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the scale table lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "N=8 over N=1") {
		t.Error("a run without 8 workers has targets for 8")
	}
	var empty strings.Builder
	writeScale(&empty, sample(t))
	if empty.Len() != 0 {
		t.Errorf("a run without BenchmarkScale has a scale table: %q", empty.String())
	}
}
