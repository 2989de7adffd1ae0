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
	KeyId             string           `json:",omitzero"`
	GranteePrincipal  string           `json:",omitzero"`
	RetiringPrincipal string           `json:",omitzero"`
	Operations        []string         `json:",omitzero" wire:"max=64"`
	Constraints       GrantConstraints `json:",omitzero" wire:"omitempty"`
	GrantTokens       []string         `json:",omitzero" wire:"max=64"`
	Name              string           `json:",omitzero"`
}

// CreateGrantOutput is the response of CreateGrant.
type CreateGrantOutput struct {
	GrantToken string `json:",omitzero"`
	GrantId    string `json:",omitzero"`
}

// ListGrantsInput is the request of ListGrants.
type ListGrantsInput struct {
	KeyId            string `json:",omitzero"`
	GrantId          string `json:",omitzero"`
	GranteePrincipal string `json:",omitzero"`
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
	Operations        []string         `json:",omitzero"`
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
	RetiringPrincipal string `json:",omitzero"`
	Limit             *int32 `json:",omitzero"` // 1..100, default 50
	Marker            string `json:",omitzero"`
}

// RetireGrantInput is the request of RetireGrant: a GrantToken, or KeyId
// and GrantId.
type RetireGrantInput struct {
	GrantToken string `json:",omitzero"`
	KeyId      string `json:",omitzero"`
	GrantId    string `json:",omitzero"`
}

// RevokeGrantInput is the request of RevokeGrant.
type RevokeGrantInput struct {
	KeyId   string `json:",omitzero"`
	GrantId string `json:",omitzero"`
}
