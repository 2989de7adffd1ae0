// Package kms is the key service of kmsd: AWS KMS semantics over the
// records, store and ciphertext of package keystore. The socket server and
// the FUSE view are front ends of one [Service]; neither reimplements a rule.
//
// # Operations
//
// Each exported method is one AWS KMS operation with AWS's request and
// response field names: CreateKey, DescribeKey, ListKeys,
// UpdateKeyDescription, EnableKey, DisableKey, ScheduleKeyDeletion,
// CancelKeyDeletion; CreateAlias, UpdateAlias, DeleteAlias, ListAliases;
// TagResource, UntagResource, ListResourceTags; Encrypt, Decrypt, ReEncrypt,
// GenerateDataKey, GenerateDataKeyWithoutPlaintext, GenerateRandom; and
// EnableKeyRotation, DisableKeyRotation, GetKeyRotationStatus,
// RotateKeyOnDemand, ListKeyRotations.
//
// # Errors
//
// Every error a method returns is a [*api.Error] whose Code is an AWS exception
// name (NotFoundException, DisabledException, KMSInvalidStateException, ...);
// [api.CodeOf] extracts it. Requests and responses are the AWS-shaped types
// of package wire, shared with the socket protocol and the Go client. Failures that are not the caller's (the store, the
// random source) are KMSInternalException and the detail goes to the log.
//
// # Key identifiers
//
// Key ids are UUIDs; ARNs have the form
// arn:kmsd:kms:local:000000000000:key/<key-id> (kmsd has no partitions,
// regions or accounts, so those parts are fixed). As in AWS, aliases
// (alias/NAME or their ARNs) resolve only in the operations that use a key:
// the crypto operations and DescribeKey. Management operations take a key id
// or key ARN.
//
// # Hot path
//
// Crypto operations never touch the store. Every key's record lives in
// memory; its versions are unsealed on first use, kept, and zeroed when the
// key is disabled or deleted. A crypto call takes two read locks (the key
// table and the key) and allocates only its output.
//
// # Time
//
// Deletion at the end of the waiting period and automatic rotation are done
// by [Service.Tick], which a background loop calls every
// Config.TickInterval and tests call directly with a clock they set
// (Config.Now).
package kms
