// Package bench measures kmsd end to end: the real kmsd binary over its
// socket, beside the limits it cannot beat, measured in the same run:
// a raw Unix-socket echo of the same frame sizes (the transport) and an
// in-process seal (the crypto). Run with `make bench` or
//
//	go test -run '^$' -bench . -count 5 ./bench/ | tee bench/results/latest.txt
//
// and compare runs with benchstat. Latency benchmarks report p50 and p99 in
// microseconds as extra metrics.
package bench
