// Package client is the Go client of kmsd: it dials kmsd's Unix socket
// and calls the AWS KMS operations kmsd serves, with the request and
// response types of package [kmsd/wire/api].
//
// # Calls
//
// [Dial] connects and exchanges Hello; a [Client] then has one method per
// operation (Encrypt, Decrypt, CreateKey, ...), plus [Client.Call] for any
// operation by name. Errors that kmsd answers are [*api.Error] values
// whose Code is an AWS exception name ([api.CodeOf] reads it); failures to
// reach kmsd wrap [ErrConnection].
//
// # Concurrency and batches
//
// A Client is safe for concurrent use and keeps one connection: calls are
// pipelined, and concurrent calls of one crypto operation leave as one
// batch frame, without waiting on a timer. [Client.EncryptBatch] and its
// siblings send many items at once, cut into frames that are all in
// flight together. A batch's results are decoded in place: their byte
// slices share the buffer their frame was read into, and a caller that
// has done with them gives it back with [Release], so that a stream of
// batches reuses a few buffers instead of making one per frame for the
// garbage collector. If kmsd restarts, the next call reconnects; crypto
// operations and reads that were in flight are sent again once.
//
// # Latency
//
// Used by one synchronous caller, a Client's reader polls the socket for
// up to [Options].PollWindow (50 µs) before it sleeps in the kernel, so
// that an answer that comes within microseconds is taken without waking a
// sleeping thread; with concurrent callers it never polls.
//
// # Lists
//
// The List operations return a page at a time; a [Paginator]
// ([NewListKeysPaginator], [NewListAliasesPaginator], ...) walks the
// pages, as the AWS SDKs' paginators do. Paginators take any [Caller], so
// the FUSE view inside kmsd pages with the same code.
//
// The protocol under all this is package [kmsd/wire], and
// docs/wire-protocol.md describes it for clients in other languages.
package client
