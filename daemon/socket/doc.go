// Package socket is kmsd's msgpack front end on a Unix socket, speaking
// the protocol of package wire (docs/wire-protocol.md). It only decodes
// and encodes: every request goes through package pipeline.
//
// [Listen] makes the socket: an existing socket that answers is an error
// (another kmsd runs there), a dead one is replaced, and the new one gets
// the configured mode and group. Each accepted connection is admitted
// (pipeline.Admission) and gets the caller's identity from SO_PEERCRED,
// once, for every request; a reader goroutine reads frames (read.go), and
// answers leave through the connection's writer (respond.go).
//
// The first frame must be Hello. Each request takes its units of the
// in-flight budget before its body is read: the connection's own
// (Config.MaxInFlight; past it the reader stops reading, so a client that
// floods only slows itself), then the pipeline's. A request past the
// server's budget has its body read past, not kept, and is answered
// ThrottlingException.
//
// A request becomes a pipeline.Request whose reply is the connection's
// (dispatch.go); a batch, one per chunk, whose replies write into the
// batch's buffers (batch.go), sent as one writev once the batch is
// recorded. A lone request on a connection with nothing else in flight
// is served on the reader itself, and every answer is written in place
// when the socket takes it at once (else by the writer): a synchronous
// caller's round trip has no goroutine handoff to wait for.
//
// A connection idle for Config.IdleTimeout is closed; a frame whose body
// does not arrive within FrameTimeout closes it too, and a client that
// does not read its answers within WriteTimeout is dropped, so a stalled
// client holds no worker.
package socket
