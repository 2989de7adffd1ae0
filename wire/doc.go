// Package wire is kmsd's protocol: length-prefixed frames of msgpack over
// a Unix stream socket, as docs/wire-protocol.md specifies it for clients
// in any language. Programs that call kmsd use package
// [kmsd/wire/client]; this package is what that client and kmsd's server
// share.
//
// # Frames
//
// A frame is a 4-byte big-endian length and a msgpack body of at most
// [MaxFrame] bytes. A [FrameReader] reads the length first and lets its
// caller decide what the body may cost before it is read; [ReadFrame]
// does both at once.
//
// # Envelopes
//
// A body is [type, id, ...]: a request names its operation and carries
// one message of package [kmsd/wire/api] (or many: a batch), a response
// carries an error or a message (or one of either per batch item).
// [DecodeRequest] and [DecodeResponse] read them; [AppendRequest],
// [AppendBatchRequest], [AppendResponse] and [AppendBatchResponse] write
// whole frames in place at the end of a buffer.
//
// # Codec and bounds
//
// Messages are msgpack maps from AWS field names to values, encoded by
// code generated from the api structs (go generate; codec_gen.go), in
// exactly the format of github.com/vmihailenco/msgpack/v5. Decoding is
// bounded before it allocates: [Validate] checks every declared length
// and count against the body and its nesting against [MaxDepth]; lists
// and maps have element bounds; and a body decodes to at most a fixed
// multiple of its size. A malformed request that still has an id is
// answered with a ValidationException; one without is [ErrProtocol].
package wire
