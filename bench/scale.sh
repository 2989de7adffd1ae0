#!/usr/bin/env bash
# bench/scale.sh [OUT]: kmsd's CPU time per item as it is given more
# cores. Runs BenchmarkScale (bench/scale_test.go) with kmsd pinned to
# N = 1, 2, 4, ... CPUs (up to half of this machine's; 1 and 2 on a
# smaller one) and its callers on the other half, writes the benchmark
# output to OUT (default bench/results/scale.txt) and prints the table of
# CPU per item by N with the targets that read it. BENCHTIME (default
# 2s) and COUNT (default 5) set each figure's runs; the table quotes
# their medians.
set -euo pipefail
cd "$(dirname "$0")/.."
go=${GO:-go}
out=${1:-bench/results/scale.txt}
ncpu=$(nproc)
workers=1
for ((n = 2; n <= ncpu / 2; n *= 2)); do workers+=",$n"; done
if ((ncpu < 4 && ncpu >= 2)); then workers=1,2; fi
mkdir -p "$(dirname "$out")"
KMSD_SCALE_WORKERS=$workers $go test -run '^$' -bench '^BenchmarkScale$' \
	-benchtime "${BENCHTIME:-2s}" -count "${COUNT:-5}" -timeout 3h ./bench/ | tee "$out"
$go run ./bench/report -scale "$out"
