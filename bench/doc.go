// Package bench is kmsd's throughput suite: the real kmsd binary, driven
// over its socket (and its FUSE mount) by the Go client, beside the limits
// it cannot beat, measured in the same run. `make bench` runs it with the
// peer (bench/peer) and turns the output into bench/results/table.md and
// bench/results/throughput.svg (bench/report); docs/benchmarks.md says what
// each benchmark does and how to read the figures.
//
//	BenchmarkKMSD      six operations x nine modes, audit and authorization on
//	BenchmarkRaw       the crypto limit (in-process seals), the transport
//	                   limits (Unix-socket echoes) and a flush's latency
//	BenchmarkAudit     every --audit-sync mode, and no trail, under three loads
//	BenchmarkMemory    RSS with 10,000 keys, idle
//	BenchmarkOverload  1 GiB asked at once: throttling, and peak RSS
//	BenchmarkScale     kmsd's CPU per item at --workers 1 and 2, pinned
//	                   apart from its callers, beside an echo server
//	                   (bench/scale.sh: up to half a bigger machine)
//
// Every figure comes from bench/measure, which the peer uses too. Set
// KMSD_BENCH_PROFILE to a directory to have each kmsd write a CPU profile
// there; KMSD_BENCH_ARGS adds flags to every kmsd, KMSD_BENCH_KMSD runs
// another kmsd binary (to compare two builds on one machine). Run one
// part with, for example,
//
//	go test -run '^$' -bench 'KMSD/op=Encrypt/size=32/' -count 5 ./bench/
package bench
