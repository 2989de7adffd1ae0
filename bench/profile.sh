#!/usr/bin/env bash
# bench/profile.sh RESULTS: profiles kmsd (its own --cpu-profile) under two
# loads, and prints one benchmark line for each with the shares
# bench/report checks against the targets, in percent of kmsd's samples:
# the blob seal's (keystore.SealBlobContext and all it calls) and the
# audit trail's (the samples whose innermost kmsd function is in
# kmsd/daemon/audit: its encoding, hashing, writes and flushes, not the
# answers its callbacks send). The loads:
#
#   mode=batch=4096   one client sending batches of 4,096 Encrypt items of
#                     32 bytes (top functions kept in
#                     RESULTS/profile-encrypt-batch.txt)
#   mode=procs=16x4   single Encrypt calls of 32 bytes from 16 processes of
#                     4 callers (RESULTS/profile-encrypt-singles.txt)
set -euo pipefail
out=${1:-bench/results}
go=${GO:-go}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

# shares MODE FILE: profiles kmsd under BenchmarkKMSD's Encrypt 32 B in
# MODE, keeps its top functions in FILE and prints the benchmark line.
shares() {
	local mode=$1 top=$2 prof
	rm -f "$dir"/*.prof
	KMSD_BENCH_PROFILE=$dir $go test -run '^$' -bench "KMSD/op=Encrypt/size=32/mode=$mode\$" \
		-benchtime 5s ./bench/ >"$dir/bench.txt"
	prof=$(ls "$dir"/*.prof)
	$go tool pprof -top -cum -nodecount=200 "$prof" 2>/dev/null >"$top"
	seal=$(awk '$6 == "kmsd/keystore.SealBlobContext" { sub("%", "", $5); print $5 }' "$top")
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
	echo "BenchmarkProfile/op=Encrypt/size=32/mode=$mode 1 ${seal:-0} seal-% ${audit:-0} audit-%"
}

shares batch=4096 "$out/profile-encrypt-batch.txt"
shares procs=16x4 "$out/profile-encrypt-singles.txt"
