package main

import (
	"fmt"
	"io"
	"strings"
)

// Ops and modes in the order the table lists them; names as the suite's.
var (
	tableOps = []struct{ op, size, label string }{
		{"Encrypt", "32", "Encrypt 32 B"},
		{"Encrypt", "1024", "Encrypt 1 KiB"},
		{"Encrypt", "4096", "Encrypt 4 KiB"},
		{"Decrypt", "32", "Decrypt 32 B"},
		{"GenerateDataKey", "32", "GenerateDataKey AES_256"},
		{"ReEncrypt", "32", "ReEncrypt 32 B"},
	}
	tableModes = []struct{ mode, label string }{
		{"sync", "1 synchronous caller"},
		{"callers=64", "64 callers, one client (coalesced)"},
		{"conns=16", "16 connections, 1 caller each"},
		{"procs=16x4", "16 processes x 4 callers"},
		{"batch=16", "batches of 16"},
		{"batch=256", "batches of 256"},
		{"batch=4096", "batches of 4096"},
		{"fuse=1", "FUSE, 1 caller"},
		{"fuse=16", "FUSE, 16 callers"},
	}
)

// kmsdName, peerName and rawName are the suite's benchmark names.
func kmsdName(op, size, mode string) string {
	return "KMSD/op=" + op + "/size=" + size + "/mode=" + mode
}
func peerName(op, size, mode string) string {
	return "Peer/op=" + op + "/size=" + size + "/mode=" + mode
}
func rawName(size string) string { return "Raw/seal=XAES/size=" + size }

// peerMode is the peer's mode a kmsd mode is compared with: the same, or
// for batches (AWS KMS has none) the peer's 64 concurrent callers.
func peerMode(mode string) string {
	if strings.HasPrefix(mode, "batch=") || mode == "fuse=16" || mode == "procs=16x4" {
		return "callers=64"
	}
	if mode == "fuse=1" {
		return "sync"
	}
	return mode
}

func writeTable(w io.Writer, rs, before *results) {
	fmt.Fprintf(w, "Medians of the runs in one `make bench`; machine: %s.\n", rs.machine())
	fmt.Fprintln(w, "kmsd has its defaults: audit `interval` (every record written before its answer leaves, flushed within 5 ms) "+
		"and authorization (default key policy) on; the callers share the machine with it. "+
		"*before* is the code before the hot-path work (issue 12), measured on the same machine.")
	fmt.Fprintln(w)
	writeTargets(w, rs, before)
	fmt.Fprintln(w)
	fmt.Fprintln(w, "*vs raw* is kmsd's ops/s over in-process XAES-256-GCM seals of the same size on every core; "+
		"*vs peer* is over local-kms driven by aws-sdk-go-v2 in the same mode (batches, FUSE with 16 callers and 16 processes: its 64-caller figure). "+
		"*kmsd allocs/item* counts kmsd's own heap allocations per item.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| operation | mode | ops/s | MB/s | p50 µs | p99 µs | kmsd allocs/item | kmsd cores | peak RSS MiB | vs raw | peer ops/s | vs peer |")
	fmt.Fprintln(w, "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
	for _, o := range tableOps {
		raw, rawOK := rs.median(rawName(o.size), "ops/s")
		for _, m := range tableModes {
			name := kmsdName(o.op, o.size, m.mode)
			ops, ok := rs.median(name, "ops/s")
			if !ok {
				continue
			}
			peer, peerOK := rs.median(peerName(o.op, o.size, peerMode(m.mode)), "ops/s")
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", o.label, m.label,
				num(ops), rs.mbps(name), rs.fmt(name, "p50-µs", 0), rs.fmt(name, "p99-µs", 0),
				rs.fmt(name, "server-allocs/item", 2), rs.fmt(name, "server-cores", 2), rs.fmt(name, "peak-RSS-MiB", 0),
				ratio(ops, raw, rawOK), numIf(peer, peerOK), ratio(ops, peer, peerOK))
		}
	}
	writeLimits(w, rs)
	writeAWS(w, rs)
	writeHSM(w, rs)
	writeAsymmetric(w, rs)
	writeExtras(w, rs)
	writeScale(w, rs)
}

// writeAsymmetric is the operations of the asymmetric and HMAC keys
// (BenchmarkAsymmetric) beside the same operation in process on every
// core, when the run has them.
func writeAsymmetric(w io.Writer, rs *results) {
	ops := []struct{ name, label string }{
		{"op=Sign/alg=ECDSA_SHA_256", "Sign, ECDSA P-256"},
		{"op=Sign/alg=RSASSA_PSS_SHA_256", "Sign, RSA-2048 PSS"},
		{"op=Verify/alg=ECDSA_SHA_256", "Verify, ECDSA P-256"},
		{"op=GenerateMac/alg=HMAC_SHA_256", "GenerateMac, HMAC-SHA256"},
	}
	name := func(op, mode string) string { return "Asymmetric/" + op + "/mode=" + mode }
	if _, ok := rs.median(name(ops[0].name, "sync"), "ops/s"); !ok {
		return
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Asymmetric and HMAC keys, 64-byte messages: kmsd (audit and authorization on) beside the same operation "+
		"done in process on every core with the key's material (package keyspec); ops/s, *vs raw* kmsd over that.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| operation | in process, every core | kmsd, 1 caller | p50 µs | kmsd, batches of 256 | batch vs raw | kmsd cores (batch) |")
	fmt.Fprintln(w, "|---|--:|--:|--:|--:|--:|--:|")
	for _, o := range ops {
		raw, rawOK := rs.median(name(o.name, "raw"), "ops/s")
		one, _ := rs.median(name(o.name, "sync"), "ops/s")
		batch, batchOK := rs.median(name(o.name, "batch=256"), "ops/s")
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s |\n", o.label, numIf(raw, rawOK), num(one), rs.fmt(name(o.name, "sync"), "p50-µs", 0),
			numIf(batch, batchOK), ratio(batch, raw, rawOK && batchOK), rs.fmt(name(o.name, "batch=256"), "server-cores", 2))
	}
}

// writeHSM is Encrypt under a key kept in a PKCS#11 token (SoftHSM2) beside
// one of kmsd's own keys, when the run has it.
func writeHSM(w io.Writer, rs *results) {
	name := func(key, mode string) string { return "HSM/key=" + key + "/op=Encrypt/size=32/mode=" + mode }
	if _, ok := rs.median(name("token", "sync"), "ops/s"); !ok {
		return
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "A key in a custom key store (SoftHSM2, AES-256-GCM done by the token through PKCS#11) beside one of kmsd's own, "+
		"on the same daemon; Encrypt 32 B, ops/s.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| mode | token's key | kmsd's key | token vs kmsd |")
	fmt.Fprintln(w, "|---|--:|--:|--:|")
	for _, m := range []struct{ mode, label string }{{"sync", "1 synchronous caller"}, {"batch=256", "batches of 256"}} {
		tok, _ := rs.median(name("token", m.mode), "ops/s")
		own, ok := rs.median(name("kmsd", m.mode), "ops/s")
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", m.label, num(tok), numIf(own, ok), ratio(tok, own, ok))
	}
}

// awsName is a benchmark of kmsd's AWS endpoint (bench/peer's BenchmarkAWS).
func awsName(via, op, size, mode string) string {
	return "AWS/via=" + via + "/op=" + op + "/size=" + size + "/mode=" + mode
}

// writeAWS is kmsd's AWS endpoint beside its msgpack socket and local-kms,
// each driven as its users drive it, when the run has it.
func writeAWS(w io.Writer, rs *results) {
	if _, ok := rs.median(awsName("tcp", "Encrypt", "32", "sync"), "ops/s"); !ok {
		return
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "The AWS API (`kmsd --aws-listen`), driven by aws-sdk-go-v2 as a program written for AWS KMS drives it, "+
		"beside the msgpack socket (kmsd's Go client) and local-kms (the same SDK), in the same run; ops/s.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| operation | mode | AWS API, TCP + SigV4 | AWS API, Unix socket | msgpack socket | local-kms | TCP vs local-kms | msgpack vs TCP |")
	fmt.Fprintln(w, "|---|---|--:|--:|--:|--:|--:|--:|")
	for _, o := range tableOps {
		for _, m := range tableModes[:3] {
			tcp, tcpOK := rs.median(awsName("tcp", o.op, o.size, m.mode), "ops/s")
			if !tcpOK {
				continue
			}
			unix, unixOK := rs.median(awsName("unix", o.op, o.size, m.mode), "ops/s")
			sock, sockOK := rs.median(kmsdName(o.op, o.size, m.mode), "ops/s")
			peer, peerOK := rs.median(peerName(o.op, o.size, m.mode), "ops/s")
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", o.label, m.label, num(tcp), numIf(unix, unixOK),
				numIf(sock, sockOK), numIf(peer, peerOK), ratio(tcp, peer, peerOK), ratio(sock, tcp, sockOK))
		}
	}
}

// writeLimits is the limits measured in the same run.
func writeLimits(w io.Writer, rs *results) {
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| limit | size | ops/s | MB/s | p50 µs |")
	fmt.Fprintln(w, "|---|--:|--:|--:|--:|")
	for _, l := range []struct{ name, label string }{
		{"Raw/seal=XAES", "XAES-256-GCM seal, in process, every core"},
		{"Raw/seal=AES-GCM", "AES-256-GCM seal, in process, every core"},
		{"Raw/echo", "Unix-socket echo of the request frame, 1 caller"},
	} {
		for _, size := range []string{"32", "1024", "4096"} {
			name := l.name + "/size=" + size
			if ops, ok := rs.median(name, "ops/s"); ok {
				fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", l.label, size, num(ops), rs.mbps(name), rs.fmt(name, "p50-µs", 1))
			}
		}
	}
	for _, l := range []struct{ name, label, size string }{
		{"Raw/echo/size=32/conns=64", "Unix-socket echo, 64 callers (a connection each), one process", "32"},
		{"Raw/echo/size=32/procs=16x4", "Unix-socket echo, 16 processes x 4 callers (a connection each)", "32"},
		{"Raw/fdatasync", "append a record-sized line and fdatasync it", "400"},
	} {
		if ops, ok := rs.median(l.name, "ops/s"); ok {
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", l.label, l.size, num(ops), rs.mbps(l.name), rs.fmt(l.name, "p50-µs", 1))
		}
	}
}

const overloadName = "Overload/callers=256/conns=16/batch=1024/size=4096"

// writeExtras is memory, the audit trail's cost and where one call's
// latency goes, when the run has them.
func writeExtras(w io.Writer, rs *results) {
	if idle, ok := rs.median("Memory/keys=10000", "idle-RSS-MiB"); ok {
		peak, _ := rs.median(kmsdName("Encrypt", "32", "callers=64"), "peak-RSS-MiB")
		fmt.Fprintln(w)
		now, _ := rs.median("Memory/keys=10000", "RSS-at-once-MiB")
		fmt.Fprintf(w, "Memory: kmsd's RSS with 10,000 keys is %.0f MiB idle (18 s after the last request; %.0f MiB at once)", idle, now)
		if anon, ok := rs.median("Memory/keys=10000", "idle-anon-MiB"); ok {
			file, _ := rs.median("Memory/keys=10000", "idle-file-MiB")
			fmt.Fprintf(w, ": %.0f MiB anonymous (heap and runtime), %.0f MiB of mapped files (mostly kmsd's executable)", anon, file)
		}
		fmt.Fprintf(w, "; its peak under 64 callers (Encrypt 32 B) is %.0f MiB.\n", peak)
	}
	if ops, ok := rs.median(overloadName, "ops/s"); ok {
		thr, _ := rs.median(overloadName, "throttled/s")
		peak, _ := rs.median(overloadName, "peak-RSS-MiB")
		fmt.Fprintf(w, "\nOverload (256 callers on 16 connections, batches of 1,024 x 4 KiB: 1 GiB asked at once, 32 times the 32 MiB in-flight budget): %s items/s answered, %s items/s throttled, kmsd's peak RSS %.0f MiB.\n", num(ops), num(thr), peak)
	}
	if _, ok := rs.median("Audit/audit=interval/mode=sync", "ops/s"); ok {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "| audit trail (Encrypt 32 B) | 1 caller p50 µs | 1 caller ops/s | 64 callers ops/s | batches of 256, items/s |")
		fmt.Fprintln(w, "|---|--:|--:|--:|--:|")
		for _, m := range []struct{ name, label string }{
			{"audit=interval", "`interval` (default): written, flushed within 5 ms"},
			{"audit=batch", "`batch`: flushed with its group before the answer"},
			{"audit=always", "`always`: each record flushed on its own"},
			{"audit=none", "`none`: written, flushed when the kernel will"},
			{"audit=off", "no trail (`--no-audit`)"},
		} {
			p := "Audit/" + m.name + "/mode="
			sync, _ := rs.median(p+"sync", "ops/s")
			c64, _ := rs.median(p+"callers=64", "ops/s")
			b256, _ := rs.median(p+"batch=256", "ops/s")
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", m.label, rs.fmt(p+"sync", "p50-µs", 0), num(sync), num(c64), num(b256))
		}
		if v, ok := rs.median("Raw/fdatasync", "p50-µs"); ok {
			fmt.Fprintf(w, "\nOne fdatasync of the trail's file system (append 400 bytes, flush) takes %.0f µs (p50) in the same run: "+
				"the least `batch` and `always` add to an answer.\n", v)
		}
	}
}

// fmt formats name's median in unit with prec decimals, or "—".
func (rs *results) fmt(name, unit string, prec int) string {
	v, ok := rs.median(name, unit)
	if !ok {
		return "—"
	}
	return fmt.Sprintf("%.*f", prec, v)
}

// mbps is name's median throughput in MB/s (benchfmt reads MB/s as B/s).
func (rs *results) mbps(name string) string {
	v, ok := rs.median(name, "B/s")
	if !ok {
		return "—"
	}
	return fmt.Sprintf("%.1f", v/1e6)
}

func ratio(a, b float64, ok bool) string {
	if !ok || b == 0 {
		return "—"
	}
	r := a / b
	if r >= 10 {
		return fmt.Sprintf("%.0f×", r)
	}
	if r >= 0.1 {
		return fmt.Sprintf("%.2f×", r)
	}
	return fmt.Sprintf("%.1f%%", 100*r)
}

func numIf(v float64, ok bool) string {
	if !ok {
		return "—"
	}
	return num(v)
}

// num is v rounded, with thousands separators.
func num(v float64) string {
	s := fmt.Sprintf("%.0f", v)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
