// Package awsapi is kmsd's AWS front end: the AWS KMS JSON 1.1 protocol
// over HTTP (package kmsd/wire/awsjson for the bodies), on a Unix socket
// or on TCP, so that the aws CLI and the AWS SDKs work against kmsd
// unchanged (docs/aws-endpoint.md).
//
// # Callers
//
// On a Unix socket a request acts as the peer the kernel names
// (SO_PEERCRED). On TCP it acts as the principal of the access key that
// signed it with Signature Version 4 (package sigv4): [Keys] is the table
// of access keys (no secret is stored: each is derived from a key kmsd
// keeps sealed) and serves CreateAccessKey, ListAccessKeys and
// DeleteAccessKey.
//
// # Bounds
//
// [Endpoint] reaches kmsd's request path only through [Pipeline]:
// connections are admitted in the limits kmsd's other listeners share
// (on TCP, first in a small allowance of connections not yet signed for,
// AWSUnauthConns, then in their access key's); a request's declared
// Content-Length is charged to its caller's share of the in-flight budget
// before its body is read; on TCP no body is read before its signature
// header names a known access key, and a refused request closes its
// connection at once. The call itself takes the path every front end
// takes: authorization, the workers' queues, the key service, the audit
// trail.
package awsapi
