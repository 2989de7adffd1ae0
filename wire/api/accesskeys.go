package api

import "time"

// CreateAccessKeyInput is the request of CreateAccessKey (kmsd's own): an
// access key for the AWS endpoint on TCP, whose signed requests act as
// Principal ("uid:N"; default: the caller). Root and the admin group may
// issue keys for anyone; other users for themselves only.
type CreateAccessKeyInput struct {
	Principal string `json:",omitzero"` // who the key's requests act as: uid:N (default: you); root and the admin group may name anyone
}

// AccessKey is an access key with its secret, as IAM's CreateAccessKey
// returns it; UserName is the principal it acts as. The secret is shown
// this once: kmsd stores none (it derives it, docs/aws-endpoint.md).
type AccessKey struct {
	UserName        string    `json:",omitzero"`
	AccessKeyId     string    `json:",omitzero"`
	Status          string    `json:",omitzero"`
	SecretAccessKey string    `json:",omitzero"`
	CreateDate      time.Time `json:",omitzero"`
}

// CreateAccessKeyOutput is the response of CreateAccessKey.
type CreateAccessKeyOutput struct {
	AccessKey AccessKey `json:",omitzero"`
}

// ListAccessKeysInput is the request of ListAccessKeys: the keys of
// Principal (default: every key the caller may see: all of them for root
// and the admin group, its own for anyone else).
type ListAccessKeysInput struct {
	Principal string `json:",omitzero"` // only this principal's keys (uid:N)
}

// AccessKeyMetadata is an access key without its secret.
type AccessKeyMetadata struct {
	UserName    string    `json:",omitzero"`
	AccessKeyId string    `json:",omitzero"`
	Status      string    `json:",omitzero"`
	CreateDate  time.Time `json:",omitzero"`
}

// ListAccessKeysOutput is the response of ListAccessKeys.
type ListAccessKeysOutput struct {
	AccessKeyMetadata []AccessKeyMetadata `json:",omitzero" wire:"max=10000"`
	IsTruncated       bool
}

// DeleteAccessKeyInput is the request of DeleteAccessKey: requests signed
// with the key are refused from then on.
type DeleteAccessKeyInput struct {
	AccessKeyId string `json:",omitzero"` // the key to delete
}
