// Package sigv4 verifies AWS Signature Version 4 on HTTP requests, as the
// AWS SDKs and the aws CLI sign them (the Authorization header form,
// AWS4-HMAC-SHA256), for kmsd's AWS endpoint on TCP.
//
// [Verify] rebuilds the canonical request and the string to sign as AWS's
// specification gives them ("Create a signed AWS API request"), derives
// the signing key from the secret of the access key the request names
// (HMAC-SHA256 chained over the date, region, service and
// "aws4_request"), and compares signatures in constant time. It refuses,
// with the codes AWS answers: a request without a signature
// (MissingAuthenticationTokenException), a malformed one
// (IncompleteSignatureException), an access key it does not know
// (UnrecognizedClientException), and a signature that does not match or a
// request time more than five minutes from the server's
// (InvalidSignatureException). testdata/vectors.json holds AWS's published
// examples, which the tests check.
package sigv4
