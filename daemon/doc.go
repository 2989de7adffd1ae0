// Package daemon serves the key service of package daemon/kms on a Unix
// socket, speaking the protocol of package wire (docs/wire-protocol.md).
//
// # Connections
//
// [Listen] makes the socket: an existing socket that answers is an error
// (another kmsd runs there), a dead one is replaced, and the new one gets
// the configured mode and group. Each accepted connection gets the caller's
// identity from SO_PEERCRED, once, and carries it on every request; a
// reader goroutine decodes frames and a writer goroutine writes responses,
// flushing once per pass. The first frame must be Hello. At most
// MaxInFlight requests of a connection are outstanding, a request counting
// once per started 16 KiB of its frame (so a connection holds at most
// MaxInFlight x 16 KiB of requests): past that the reader stops reading,
// so a client that floods only slows itself. Across connections, at most
// MaxInFlightTotal such units (32 MiB by default) are held: a request read
// past that is answered ThrottlingException at once, so many clients
// flooding together get throttled, and kmsd's memory does not grow.
// The AWS endpoint keeps the same rule (package awsapi): a request's
// Content-Length is charged to its caller's share before its body is
// read, and on TCP no body is read before its signature header names an
// access key kmsd issued.
//
// # Work
//
// Crypto requests from every connection go to one bounded queue served by
// a worker pool sized from the physical core count (klauspost/cpuid). A
// worker takes a request and every other request already queued (no
// timer) and runs them together; batch requests are split into chunks that
// workers share. A full queue answers ThrottlingException at once: the
// daemon never grows its queues. Management requests have their own small
// queue and workers, so slow synchronous writes never hold crypto back.
//
// A lone request on a connection with nothing else in flight is served on
// the connection's reader itself, and every answer is written in place
// when the socket takes it at once (else by the connection's writer):
// a synchronous caller's round trip has no goroutine handoff to wait for.
//
// The other front ends (the FUSE view, the AWS endpoint in package
// awsapi) take the same path: their requests join the same queues, in
// the same passes and audit writes (frontQueued); a lone FUSE crypto call
// with no queue to wait behind runs those stages on its own goroutine. A
// worker answers every single request through its front end's replier
// (work.go): the connection, or the other front end's waiting call.
//
// # Memory
//
// Besides the in-flight budgets above, kmsd returns the memory it freed to
// the system once it falls idle (after 1, 2, 4 ... 64 s without a
// request): under load the Go heap is left to grow to twice what is live,
// for throughput; idle, that would only be RSS.
//
// # Deadlines and shutdown
//
// A connection idle for IdleTimeout is closed; a frame whose body does not
// arrive within FrameTimeout closes it too, and a client that does not read
// its responses within WriteTimeout is dropped, so a stalled client holds no
// worker. [Server.Shutdown] stops accepting, stops reading, lets in-flight
// requests finish and be answered, and returns; the caller then closes the
// service (and Badger with it).
package daemon
