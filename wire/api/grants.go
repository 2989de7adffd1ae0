package api

import "time"

// GrantConstraints limit a grant to requests whose encryption context
// equals (EncryptionContextEquals) or contains (EncryptionContextSubset)
// the given pairs. A grant without constraints leaves the field out.
type GrantConstraints struct {
	EncryptionContextSubset map[string]string `json:",omitzero" wire:"max=64"`
	EncryptionContextEquals map[string]string `json:",omitzero" wire:"max=64"`
}

// CreateGrantInput is the request of CreateGrant.
type CreateGrantInput struct {
	KeyId             string           `json:",omitzero"`               // key id or key ARN
	GranteePrincipal  string           `json:",omitzero"`               // who the grant is for: uid:N, user:NAME or unit:NAME
	RetiringPrincipal string           `json:",omitzero"`               // who may retire the grant: uid:N, user:NAME or unit:NAME
	Operations        []string         `json:",omitzero" wire:"max=64"` // what the grantee may do: the operations of the key's type (Encrypt, Decrypt, Sign, GenerateMac, ...), DescribeKey, CreateGrant, RetireGrant
	Constraints       GrantConstraints `json:",omitzero" wire:"omitempty"`
	GrantTokens       []string         `json:",omitzero" wire:"max=64"` // grant tokens that allow the request
	Name              string           `json:",omitzero"`               // a name that makes retries return the same grant
	DryRun            bool             `json:",omitzero"`               // authorize and check, create nothing (DryRunOperationException)
}

// CreateGrantOutput is the response of CreateGrant.
type CreateGrantOutput struct {
	GrantToken string `json:",omitzero"`
	GrantId    string `json:",omitzero"`
}

// ListGrantsInput is the request of ListGrants.
type ListGrantsInput struct {
	KeyId            string `json:",omitzero"` // key id or key ARN
	GrantId          string `json:",omitzero"` // only this grant
	GranteePrincipal string `json:",omitzero"` // only this grantee's grants
	Limit            *int32 `json:",omitzero"` // 1..100, default 50
	Marker           string `json:",omitzero"`
}

// GrantListEntry is one grant in ListGrants and ListRetirableGrants. The
// grant token is never listed.
type GrantListEntry struct {
	KeyId             string           `json:",omitzero"`
	GrantId           string           `json:",omitzero"`
	Name              string           `json:",omitzero"`
	CreationDate      time.Time        `json:",omitzero"`
	GranteePrincipal  string           `json:",omitzero"`
	RetiringPrincipal string           `json:",omitzero"`
	IssuingAccount    string           `json:",omitzero"`
	Operations        []string         `json:",omitzero"` // what the grantee may do: Encrypt, Decrypt, ReEncryptFrom, ReEncryptTo, GenerateDataKey, GenerateDataKeyWithoutPlaintext, DescribeKey, CreateGrant, RetireGrant
	Constraints       GrantConstraints `json:",omitzero" wire:"omitempty"`
}

// ListGrantsOutput is the response of ListGrants and ListRetirableGrants.
type ListGrantsOutput struct {
	Grants     []GrantListEntry `json:",omitzero"`
	NextMarker string           `json:",omitzero"`
	Truncated  bool
}

// ListRetirableGrantsInput is the request of ListRetirableGrants.
type ListRetirableGrantsInput struct {
	RetiringPrincipal string `json:",omitzero"` // uid:N, user:NAME or unit:NAME
	Limit             *int32 `json:",omitzero"` // 1..100, default 50
	Marker            string `json:",omitzero"`
}

// RetireGrantInput is the request of RetireGrant: a GrantToken, or KeyId
// and GrantId.
type RetireGrantInput struct {
	GrantToken string `json:",omitzero"` // the grant's token
	KeyId      string `json:",omitzero"` // with GrantId, instead of GrantToken: key id or key ARN
	GrantId    string `json:",omitzero"` // with KeyId, instead of GrantToken
	DryRun     bool   `json:",omitzero"` // authorize and check, retire nothing (DryRunOperationException)
}

// RevokeGrantInput is the request of RevokeGrant.
type RevokeGrantInput struct {
	KeyId   string `json:",omitzero"` // key id or key ARN
	GrantId string `json:",omitzero"` // the grant to revoke
	DryRun  bool   `json:",omitzero"` // authorize and check, revoke nothing (DryRunOperationException)
}
