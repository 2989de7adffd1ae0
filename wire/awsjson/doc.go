// Package awsjson is the body codec of AWS's JSON 1.1 protocol, as the AWS
// SDKs and the aws CLI speak it to KMS, for the messages of package api.
//
// A request is POST / with the header X-Amz-Target: TrentService.<Operation>
// and Content-Type: application/x-amz-json-1.1; its body is a JSON object
// whose members are the operation's input fields by their AWS names. Blobs
// are base64 strings (as encoding/json writes []byte); timestamps in
// answers are seconds since the Unix epoch, as a JSON number with up to
// millisecond precision (the SDKs' "epoch-seconds" format). An error is
// answered with an HTTP status and the body {"__type": CODE, "message":
// TEXT}, the code also in the X-Amzn-ErrorType header.
//
// [Decode] is strict: a member the input type does not have is an error,
// so that a field kmsd does not implement (DryRun, Recipient) is refused
// rather than silently ignored. [Encode] writes fields in their declared
// order, leaves out the zero ones the api types mark omitzero, and does not
// escape HTML characters. [Status] is the HTTP status AWS KMS gives each
// exception.
package awsjson
