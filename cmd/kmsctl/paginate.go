package main

import (
	"encoding/base64"
	"encoding/json"
	"errors"

	"kmsd/wire/api"
	"kmsd/wire/client"
)

// paging is the AWS CLI's pagination: by default every page is fetched and
// the lists are joined; --max-items stops early and prints NextToken, which
// --starting-token continues from; --page-size sets each request's Limit.
type paging struct {
	MaxItems      int    `help:"Stop after this many items and print NextToken."`
	PageSize      *int32 `help:"Items per request to kmsd."`
	StartingToken string `help:"NextToken of an earlier call."`
}

// token is a NextToken as the AWS CLI makes it (base64 of this JSON): the
// Marker of the page to fetch and how many of its items were printed.
type token struct {
	Marker   string `json:"Marker,omitempty"`
	Truncate int    `json:"boto_truncate_amount,omitempty"`
}

func (t token) String() string {
	b, _ := json.Marshal(t)
	return base64.StdEncoding.EncodeToString(b)
}

func parseToken(s string) (token, error) {
	var t token
	if s == "" {
		return t, nil
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(b, &t)
	}
	if err != nil || t.Truncate < 0 {
		return t, usageError{errors.New("--starting-token: not a NextToken that kmsctl printed")}
	}
	return t, nil
}

// list pages through a List operation as the AWS CLI does. pager makes
// the paginator from the first page's marker and the page size; list
// returns the items and the NextToken ("" when the list is complete).
func list[Item any](e *env, p paging, pager func(c *client.Client, marker string, limit *int32) *client.Paginator[Item]) ([]Item, string, error) {
	start, err := parseToken(p.StartingToken)
	if err != nil {
		return nil, "", err
	}
	c, err := e.client()
	if err != nil {
		return nil, "", err
	}
	pg := pager(c, start.Marker, p.PageSize)
	items, skip := []Item{}, start.Truncate
	for pg.HasMorePages() {
		marker := pg.Marker()
		page, err := pg.NextPage(e.ctx)
		if err != nil {
			return nil, "", err
		}
		page = page[min(skip, len(page)):]
		if p.MaxItems > 0 && len(items)+len(page) >= p.MaxItems {
			n := p.MaxItems - len(items)
			items = append(items, page[:n]...)
			switch {
			case n < len(page):
				return items, token{marker, skip + n}.String(), nil
			case pg.HasMorePages():
				return items, token{Marker: pg.Marker()}.String(), nil
			}
			return items, "", nil
		}
		items, skip = append(items, page...), 0
	}
	return items, "", nil
}

type listKeysCmd struct{ paging }

func (c *listKeysCmd) run(e *env) error {
	keys, next, err := list(e, c.paging, func(cl *client.Client, m string, l *int32) *client.Paginator[api.KeyListEntry] {
		return client.NewListKeysPaginator(cl, &api.ListKeysInput{Marker: m, Limit: l})
	})
	if err != nil {
		return err
	}
	return show(e.stdout, e.g, struct {
		Keys      []api.KeyListEntry
		NextToken string `json:",omitempty"`
	}{keys, next})
}

type listAliasesCmd struct {
	KeyID string `name:"key-id" help:"Only the aliases of this key."`
	paging
}

func (c *listAliasesCmd) run(e *env) error {
	aliases, next, err := list(e, c.paging, func(cl *client.Client, m string, l *int32) *client.Paginator[api.AliasListEntry] {
		return client.NewListAliasesPaginator(cl, &api.ListAliasesInput{KeyId: c.KeyID, Marker: m, Limit: l})
	})
	if err != nil {
		return err
	}
	return show(e.stdout, e.g, struct {
		Aliases   []api.AliasListEntry
		NextToken string `json:",omitempty"`
	}{aliases, next})
}

type listResourceTagsCmd struct {
	KeyID string `name:"key-id" required:""`
	paging
}

func (c *listResourceTagsCmd) run(e *env) error {
	tags, next, err := list(e, c.paging, func(cl *client.Client, m string, l *int32) *client.Paginator[api.Tag] {
		return client.NewListResourceTagsPaginator(cl, &api.ListResourceTagsInput{KeyId: c.KeyID, Marker: m, Limit: l})
	})
	if err != nil {
		return err
	}
	return show(e.stdout, e.g, struct {
		Tags      []api.Tag
		NextToken string `json:",omitempty"`
	}{tags, next})
}

type listKeyRotationsCmd struct {
	KeyID              string `name:"key-id" required:""`
	IncludeKeyMaterial string `help:"ROTATIONS_ONLY (default) or ALL_KEY_MATERIAL."`
	paging
}

func (c *listKeyRotationsCmd) run(e *env) error {
	rots, next, err := list(e, c.paging, func(cl *client.Client, m string, l *int32) *client.Paginator[api.RotationsListEntry] {
		return client.NewListKeyRotationsPaginator(cl, &api.ListKeyRotationsInput{KeyId: c.KeyID,
			IncludeKeyMaterial: c.IncludeKeyMaterial, Marker: m, Limit: l})
	})
	if err != nil {
		return err
	}
	return show(e.stdout, e.g, struct {
		Rotations []api.RotationsListEntry
		NextToken string `json:",omitempty"`
	}{rots, next})
}
