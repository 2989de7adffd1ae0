// Package peer measures the KMS a user would run on one host instead of
// kmsd: local-kms (github.com/nsmithuk/local-kms), an AWS KMS emulator
// that serves the AWS JSON API over HTTP, driven by aws-sdk-go-v2's KMS
// client at the payloads and concurrency kmsd's suite uses (bench/), with
// the same metrics (bench/measure).
//
// It is a module of its own so that kmsd's module does not depend on the
// AWS SDK, and it is never part of `make test`. `make bench` installs
// local-kms from the Go module proxy and points LOCAL_KMS at it:
//
//	GOBIN=$PWD/bench/.peer go install github.com/nsmithuk/local-kms@VERSION
//	cd bench/peer && LOCAL_KMS=$PWD/../.peer/local-kms go test -run '^$' -bench . -count 5
//
// Without LOCAL_KMS, or when local-kms does not start, the benchmark says
// so and skips. AWS KMS has no batch call, so the peer has no batch modes.
package peer
