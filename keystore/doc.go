// Package keystore holds what kmsd keeps and how it keeps it: key records,
// aliases and grants and their encoding; the [Store] they live in; the
// root key and the sealing of key material under it; the ciphertext
// format; and the AEAD suites. It knows nothing of callers, policies or
// the wire: the service in package daemon/kms gives these pieces their
// KMS meaning.
//
// # Ciphertext
//
// [SealBlob] and [OpenBlob] write and read the self-describing ciphertext
// blob of docs/ciphertext-format.md: format version, algorithm, key id, key
// material version and a 24-byte nonce form a header that is authenticated,
// together with the canonical encoding of the encryption context
// ([AppendContext]), as the AEAD's additional data.
//
// # Suites
//
// Two AEADs with 24-byte random-safe nonces are supported: XAES-256-GCM
// (package xaes) on CPUs with AES-NI and carry-less multiply, and
// XChaCha20-Poly1305 elsewhere. [DefaultAlg] picks one from the CPU features
// that klauspost/cpuid reports; the algorithm id is in every blob, so both
// always decrypt everywhere.
//
// # At rest
//
// Key material is stored only sealed under a key derived from the 32-byte
// root key ([RootKey]), with the key id and version as additional data. The
// root key itself is never written to the store.
//
// # Stores
//
// A [Store] is a small ordered key-value store with atomic, durable
// batches that may be conditional ([Batch.Expect]: a record is at the
// revision it was read at), revisions on every record, and a watch of
// the batches committed after a revision ([Store.Watch]): package
// badgerstore is the one a single kmsd runs on (Badger, with synchronous
// writes), package etcdstore the one a fleet of hosts shares (etcd),
// package memstore keeps records in memory for tests, and package
// storetest is the conformance suite all three pass. Over it, this
// package lays out the records ([Batch], [Load], [RecordOf]), every one
// of which carries a format version, and ties the store to its root key
// ([Init]).
package keystore
