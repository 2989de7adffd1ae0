#!/usr/bin/env bash
# bench/profile.sh RESULTS: profiles kmsd (its own --cpu-profile) while one
# client sends it batches of 4,096 Encrypt items of 32 bytes, writes the
# profile's top functions to RESULTS/profile-encrypt-batch.txt, and prints
# one benchmark line with the shares bench/report checks against the
# targets, in percent of kmsd's samples: the blob seal's
# (keystore.SealBlobContext and all it calls) and the audit trail's (the
# samples whose innermost kmsd function is in kmsd/daemon/audit: its
# encoding, hashing, writes and flushes, not the answers its callbacks
# send).
set -euo pipefail
out=${1:-bench/results}
go=${GO:-go}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
KMSD_BENCH_PROFILE=$dir $go test -run '^$' -bench 'KMSD/op=Encrypt/size=32/mode=batch=4096$' \
	-benchtime 5s ./bench/ >"$dir/bench.txt"
prof=$(ls "$dir"/*.prof)
$go tool pprof -top -cum -nodecount=50 "$prof" 2>/dev/null >"$out/profile-encrypt-batch.txt"
seal=$(awk '$6 == "kmsd/keystore.SealBlobContext" { sub("%", "", $5); print $5 }' "$out/profile-encrypt-batch.txt")
audit=$($go tool pprof -traces "$prof" 2>/dev/null | awk '
	function secs(v) {
		if (v ~ /ms$/) return substr(v, 1, length(v) - 2) / 1e3
		if (v ~ /us$/) return substr(v, 1, length(v) - 2) / 1e6
		if (v ~ /ns$/) return substr(v, 1, length(v) - 2) / 1e9
		return substr(v, 1, length(v) - 1)
	}
	/^-+\+/ { block = 1; pending = 1; next }
	!block { next }
	{
		if (pending) { v = secs($1); total += v; f = $2; pending = 0; found = 0 } else f = $1
		if (!found && f ~ /^kmsd\//) { found = 1; if (f ~ /^kmsd\/daemon\/audit\./) audit += v }
	}
	END { if (total > 0) printf "%.2f", 100 * audit / total }')
echo "BenchmarkProfile/op=Encrypt/size=32/mode=batch=4096 1 ${seal:-0} seal-% ${audit:-0} audit-%"
