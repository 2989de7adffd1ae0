// Package kms is the key service of kmsd: AWS KMS semantics over the
// records, store and ciphertext of package keystore. The socket server and
// the FUSE view are front ends of one [Service]; neither reimplements a rule.
//
// # Operations
//
// A method named after an AWS KMS operation is that operation, with AWS's
// request and response types (package kmsd/wire/api): the key lifecycle
// (CreateKey, DescribeKey, ListKeys, UpdateKeyDescription, EnableKey,
// DisableKey, ScheduleKeyDeletion, CancelKeyDeletion), aliases, tags,
// the crypto operations (Encrypt, Decrypt, ReEncrypt, GenerateDataKey,
// GenerateDataKeyWithoutPlaintext, GenerateRandom), rotation, key
// policies and grants. The other exported methods serve the daemon: its
// own keys (DaemonKey, AuditKey), the usage operations' checks
// (KeyForUsage, IsAdmin), counts for Status, the clock (Tick) and Close.
//
// # Reports and events
//
// The service records nothing itself. A front end that makes a call
// through [Reported] gets back a [Report] of what the request resolved
// (key, version, alias, grant), and a batch's [Sink] one per group of
// items; it writes its audit record from them. What
// the service does on its own (a rotation, a deletion) goes to the
// function given to [Service.OnEvent].
//
// # Errors
//
// Every error a method returns is an [*api.Error] whose Code is an AWS
// exception name (NotFoundException, DisabledException,
// KMSInvalidStateException, ...); [api.CodeOf] extracts it. Failures that
// are not the caller's (the store, the random source) are
// KMSInternalException, and the detail goes to the log.
//
// # Storage
//
// The service keeps its records in a [keystore.Store] it is given (Badger
// in kmsd, memory in tests) and loads them all at Open.
//
// # Fleets
//
// Given a [Fleet] (and a store other hosts share: etcd), the service is
// one host of a fleet (fleet.go, fleetapply.go): it remembers the
// revision of every record it holds, makes each change conditional on
// those revisions, applies the store's watch to its tables as other
// hosts change them, and confirms its copy current every heartbeat. A
// change that met another host's fails with [ErrStale]; the caller runs
// it again after [Service.CatchUp]. Crypto past the fleet's staleness
// bound, and changes while the store does not answer, are
// DependencyTimeoutException; scheduled work runs only where
// Fleet.Leading says.
//
// # Key identifiers
//
// Key ids are UUIDs; ARNs are AWS's, arn:aws:kms:REGION:ACCOUNT:key/<key-id>,
// with the region and account of Config (by default local and
// 000000000000; kmsd's older arn:kmsd:kms:local:000000000000: prefix is
// still accepted). As in AWS, aliases
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
