// Package policy decides who may do what with a key: the caller (a
// [Principal], as the kernel describes it), key policies in AWS's JSON
// statement shape with host principals, and the matching of actions,
// resources and encryption-context conditions.
//
// # Documents
//
//	{"Version": "2012-10-17",
//	 "Statement": [{
//	   "Sid": "UseForBackups",
//	   "Effect": "Allow",
//	   "Principal": {"Kmsd": ["uid:1000", "user:alice", "gid:50", "group:kms-users", "unit:backup.service"]},
//	   "Action": ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey*"],
//	   "Resource": "*",
//	   "Condition": {"StringEquals": {"kms:EncryptionContext:purpose": "backup"}}}]}
//
// Principal is "*" (everyone), {"AWS": "*"} (the same), or {"Kmsd": P}
// where P is one host principal or a list: uid:N, user:NAME, gid:N,
// group:NAME (the caller's primary or a supplementary group), unit:NAME
// (the systemd unit the caller runs in). Names are resolved when the
// policy is parsed and must exist. Action is kms:OPERATION, with * and ?
// wildcards (kms:*, kms:Describe*), matched without regard to case.
// Resource is "*" or the key's ARN (wildcards allowed). Conditions are
// StringEquals, StringNotEquals, StringLike and StringNotLike on
// kms:EncryptionContext:KEY, and the same operators with a ForAllValues:
// or ForAnyValue: qualifier on kms:EncryptionContextKeys.
//
// # Evaluation
//
// An explicit Deny that matches wins; otherwise a matching Allow allows;
// otherwise the request is denied. A statement missing Action or Resource
// matches nothing. Conditions on the encryption context are false for
// operations without one (StringNotEquals and StringNotLike are true when
// the key is absent, as in AWS).
//
// [Compile] turns a document into a [Policy]; [Policy.Match] gives the
// statements that apply to one principal and action, which callers cache:
// only their conditions depend on the request.
package policy
