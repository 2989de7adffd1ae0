package api

import "time"

// AliasInput is the request of CreateAlias and UpdateAlias.
type AliasInput struct {
	AliasName   string `json:",omitzero"` // alias/NAME
	TargetKeyId string `json:",omitzero"` // key id or key ARN
}

// DeleteAliasInput is the request of DeleteAlias.
type DeleteAliasInput struct {
	AliasName string `json:",omitzero"` // alias/NAME
}

// ListAliasesInput is the request of ListAliases.
type ListAliasesInput struct {
	KeyId  string `json:",omitzero"` // optional filter
	Limit  *int32 `json:",omitzero"` // 1..100, default 50
	Marker string `json:",omitzero"`
}

// AliasListEntry is one alias in ListAliases.
type AliasListEntry struct {
	AliasName       string    `json:",omitzero"`
	AliasArn        string    `json:",omitzero"`
	TargetKeyId     string    `json:",omitzero"`
	CreationDate    time.Time `json:",omitzero"`
	LastUpdatedDate time.Time `json:",omitzero"`
}

// ListAliasesOutput is the response of ListAliases.
type ListAliasesOutput struct {
	Aliases    []AliasListEntry `json:",omitzero"`
	NextMarker string           `json:",omitzero"`
	Truncated  bool
}
