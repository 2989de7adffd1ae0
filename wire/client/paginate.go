package client

import (
	"context"
	"fmt"

	"kmsd/wire/api"
)

// Caller runs one operation by name: a [*Client] is one, and so is any
// front end's session inside kmsd (the FUSE view's), so the paginators
// serve both.
type Caller interface {
	Call(ctx context.Context, op string, in api.Message) (api.Message, error)
}

var _ Caller = (*Client)(nil)

// Paginator walks the pages of a List operation, as the AWS SDKs'
// paginators do: NextPage while HasMorePages. Each request asks for the
// Limit of the input it was made from (the operation's default if none)
// and starts at its Marker.
type Paginator[Item any] struct {
	fetch  func(ctx context.Context, marker string) (items []Item, next string, err error)
	marker string
	more   bool
}

func newPaginator[Item any, Out any, PO interface {
	*Out
	api.Message
}](c Caller, op string, in func(marker string) api.Message, start string, page func(*Out) ([]Item, string, bool)) *Paginator[Item] {
	return &Paginator[Item]{marker: start, more: true,
		fetch: func(ctx context.Context, marker string) ([]Item, string, error) {
			o, err := c.Call(ctx, op, in(marker))
			if err != nil {
				return nil, "", err
			}
			out, ok := o.(PO)
			if !ok {
				return nil, "", fmt.Errorf("%s: unexpected response type %T", op, o)
			}
			items, next, truncated := page((*Out)(out))
			if !truncated {
				next = ""
			}
			return items, next, nil
		}}
}

// HasMorePages reports whether NextPage has a page to fetch.
func (p *Paginator[Item]) HasMorePages() bool { return p.more }

// Marker is the Marker of the page NextPage fetches next ("" for the
// first page of a listing started without one).
func (p *Paginator[Item]) Marker() string { return p.marker }

// NextPage fetches the next page and returns its items.
func (p *Paginator[Item]) NextPage(ctx context.Context) ([]Item, error) {
	if !p.more {
		return nil, fmt.Errorf("no more pages")
	}
	items, next, err := p.fetch(ctx, p.marker)
	if err != nil {
		return nil, err
	}
	p.marker, p.more = next, next != ""
	return items, nil
}

// All fetches every page left and returns their items.
func (p *Paginator[Item]) All(ctx context.Context) ([]Item, error) {
	all := []Item{}
	for p.HasMorePages() {
		items, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		all = append(all, items...)
	}
	return all, nil
}

// NewListKeysPaginator pages through ListKeys.
func NewListKeysPaginator(c Caller, in *api.ListKeysInput) *Paginator[api.KeyListEntry] {
	return newPaginator(c, api.OpListKeys, func(m string) api.Message {
		return &api.ListKeysInput{Limit: in.Limit, Marker: m}
	}, in.Marker, func(o *api.ListKeysOutput) ([]api.KeyListEntry, string, bool) {
		return o.Keys, o.NextMarker, o.Truncated
	})
}

// NewListAliasesPaginator pages through ListAliases.
func NewListAliasesPaginator(c Caller, in *api.ListAliasesInput) *Paginator[api.AliasListEntry] {
	return newPaginator(c, api.OpListAliases, func(m string) api.Message {
		return &api.ListAliasesInput{KeyId: in.KeyId, Limit: in.Limit, Marker: m}
	}, in.Marker, func(o *api.ListAliasesOutput) ([]api.AliasListEntry, string, bool) {
		return o.Aliases, o.NextMarker, o.Truncated
	})
}

// NewListResourceTagsPaginator pages through ListResourceTags.
func NewListResourceTagsPaginator(c Caller, in *api.ListResourceTagsInput) *Paginator[api.Tag] {
	return newPaginator(c, api.OpListResourceTags, func(m string) api.Message {
		return &api.ListResourceTagsInput{KeyId: in.KeyId, Limit: in.Limit, Marker: m}
	}, in.Marker, func(o *api.ListResourceTagsOutput) ([]api.Tag, string, bool) {
		return o.Tags, o.NextMarker, o.Truncated
	})
}

// NewListKeyRotationsPaginator pages through ListKeyRotations.
func NewListKeyRotationsPaginator(c Caller, in *api.ListKeyRotationsInput) *Paginator[api.RotationsListEntry] {
	return newPaginator(c, api.OpListKeyRotations, func(m string) api.Message {
		return &api.ListKeyRotationsInput{KeyId: in.KeyId, IncludeKeyMaterial: in.IncludeKeyMaterial, Limit: in.Limit, Marker: m}
	}, in.Marker, func(o *api.ListKeyRotationsOutput) ([]api.RotationsListEntry, string, bool) {
		return o.Rotations, o.NextMarker, o.Truncated
	})
}

// NewListKeyPoliciesPaginator pages through ListKeyPolicies.
func NewListKeyPoliciesPaginator(c Caller, in *api.ListKeyPoliciesInput) *Paginator[string] {
	return newPaginator(c, api.OpListKeyPolicies, func(m string) api.Message {
		return &api.ListKeyPoliciesInput{KeyId: in.KeyId, Limit: in.Limit, Marker: m}
	}, in.Marker, func(o *api.ListKeyPoliciesOutput) ([]string, string, bool) {
		return o.PolicyNames, o.NextMarker, o.Truncated
	})
}

// NewListGrantsPaginator pages through ListGrants.
func NewListGrantsPaginator(c Caller, in *api.ListGrantsInput) *Paginator[api.GrantListEntry] {
	return newPaginator(c, api.OpListGrants, func(m string) api.Message {
		return &api.ListGrantsInput{KeyId: in.KeyId, GrantId: in.GrantId, GranteePrincipal: in.GranteePrincipal, Limit: in.Limit, Marker: m}
	}, in.Marker, func(o *api.ListGrantsOutput) ([]api.GrantListEntry, string, bool) {
		return o.Grants, o.NextMarker, o.Truncated
	})
}

// NewListRetirableGrantsPaginator pages through ListRetirableGrants.
func NewListRetirableGrantsPaginator(c Caller, in *api.ListRetirableGrantsInput) *Paginator[api.GrantListEntry] {
	return newPaginator(c, api.OpListRetirableGrants, func(m string) api.Message {
		return &api.ListRetirableGrantsInput{RetiringPrincipal: in.RetiringPrincipal, Limit: in.Limit, Marker: m}
	}, in.Marker, func(o *api.ListGrantsOutput) ([]api.GrantListEntry, string, bool) {
		return o.Grants, o.NextMarker, o.Truncated
	})
}
