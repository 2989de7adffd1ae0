package wire

//go:generate go run ./internal/codecgen

// The codec of the API's messages is generated from their declarations
// in package api (codec_gen.go, by internal/codecgen): a message is a
// msgpack map from field names to values, in declaration order, without
// the fields that hold their zero value (an optional number, a pointer,
// is sent whenever it is set, 0 included). Decoding takes fields in any
// order, skips unknown ones, refuses one given twice, and takes nil as
// absent.

// MaxContextPairs is the most pairs an encryption context may hold on the
// wire (the service applies the same limit).
const MaxContextPairs = 64
