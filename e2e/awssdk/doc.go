// Package awssdk tests kmsd's AWS endpoint (kmsd --aws-listen) with the
// AWS SDK for Go v2, as a program written for AWS KMS would use it, with
// nothing changed but its endpoint (and, on TCP, access keys kmsd issued).
// It is a module of its own, as bench/peer is, so that kmsd itself does
// not depend on the SDK; make test runs it.
package awssdk
