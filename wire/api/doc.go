// Package api is the vocabulary of kmsd's API: the request and response
// types of every operation, the table of operations, and the error codes.
// It holds no transport and no codec, so that the key service, the FUSE
// view, the Go client and any other front end speak it alike.
//
// # Messages
//
// Each operation takes one struct and returns one ([OpSpec.NewInput],
// [OpSpec.NewOutput]), named and shaped as AWS KMS names and shapes them:
// [EncryptInput] has KeyId, Plaintext, EncryptionContext, GrantTokens and
// EncryptionAlgorithm, as in the AWS SDKs. Each struct is declared once,
// here; package kmsd/wire generates its msgpack codec from the
// declaration. An optional number is a pointer ([Int32] makes one): nil
// leaves the operation's default, a pointer to 0 asks for 0.
//
// # Operations
//
// [Lookup] finds an operation by its AWS name, and [Ops] lists them all:
// the AWS KMS operations kmsd serves, plus its own (Hello, Status,
// usage, audit checkpoints, backups, the root key, access keys). Batch
// operations (the crypto operations on keys) may be sent many items at a
// time.
//
// The table (table.go) is the one place an operation is declared: its
// types, its pool, who may call it ([Access]), who answers it
// ([Served]), its help, kmsctl's command, what its audit record keeps
// ([Param]) and which of its fields hold plaintext to wipe. `go generate
// ./wire/api` (internal/opsgen) writes from it the Go client's methods,
// the daemon's handler registration and wiping, and kmsctl's command
// list; the daemon reads the access rules and audit parameters from it.
// Adding an operation is an entry there, its handler and its tests.
//
// # Errors
//
// Every failure an operation reports is an [*Error]: a Code that is an
// AWS exception name (the Code constants, such as [CodeNotFound]) and a
// Message for people. [CodeOf] extracts the code of any error.
package api
