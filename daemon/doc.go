// Package daemon composes kmsd: the key service of package daemon/kms
// behind the request path of package daemon/pipeline, served by its front
// ends: the msgpack socket (package daemon/socket), the FUSE view (fuse.go,
// through package fusefs's Service interface) and the AWS endpoint
// (package daemon/awsapi, through its Pipeline interface, awsfront.go).
//
// [Run] is the process: it opens the store, the audit trail and the
// listeners, serves, and stops them in order on a signal. [Server] holds
// what every front end shares: the pipeline, the connection limits, the
// operations' handlers (handlers.go, generated from the table of package
// wire/api as handlers_gen.go), and the server's own operations: the
// audit trail's (usage.go, checkpoints.go), the host's (package
// daemon/hostops) and the access keys (package daemon/awsapi).
//
// Beside the path: the Prometheus metrics (metrics.go, the pipeline's
// Observer), the systemd watchdog (watchdog.go, which pings only once a
// probe has come back through each place a request waits), the free-space
// checks (disk.go), and the return of freed memory once kmsd falls idle
// (idle.go: after 1, 2, 4 ... 64 s without a request; under load the Go
// heap is left to grow to twice what is live, for throughput).
//
// # Memory
//
// What requests hold is bounded on every front end: a request's units
// are charged from its declared size before its body is read (the
// socket's frame length, the AWS endpoint's Content-Length), so many
// clients flooding together are throttled and kmsd's memory does not
// grow. On TCP, the AWS endpoint reads no body before its signature header
// names an access key kmsd issued.
//
// # Shutdown
//
// [Server.Shutdown] stops accepting, stops reading, lets in-flight
// requests finish and be answered, and stops the workers; the caller
// then closes the service (and Badger with it).
package daemon
