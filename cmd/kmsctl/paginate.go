package main

import (
	"strconv"

	"kmsd/wire"
)

// paging is the AWS CLI's pagination: by default every page is fetched and
// the lists are joined; --max-items stops early and prints NextToken, which
// --starting-token continues from; --page-size sets each request's Limit.
type paging struct {
	MaxItems      int    `help:"Stop after this many items and print NextToken."`
	PageSize      int32  `help:"Items per request to kmsd."`
	StartingToken string `help:"NextToken of an earlier call."`
}

// collect calls fetch(limit, marker) until the list ends or MaxItems
// items are in. cut reports whether items remain after those returned.
func collect[T any](p paging, fetch func(limit int32, marker string) (items []T, next string, more bool, err error)) (all []T, cut bool, err error) {
	all = []T{}
	marker := p.StartingToken
	for {
		items, next, more, err := fetch(p.PageSize, marker)
		if err != nil {
			return nil, false, err
		}
		all = append(all, items...)
		if p.MaxItems > 0 && len(all) >= p.MaxItems {
			return all[:p.MaxItems], len(all) > p.MaxItems || more, nil
		}
		if !more {
			return all, false, nil
		}
		marker = next
	}
}

type listKeysCmd struct{ paging }

func (c *listKeysCmd) run(e *env) error {
	cl, err := e.client()
	if err != nil {
		return err
	}
	keys, cut, err := collect(c.paging, func(limit int32, marker string) ([]wire.KeyListEntry, string, bool, error) {
		out, err := cl.ListKeys(e.ctx, &wire.ListKeysInput{Limit: limit, Marker: marker})
		if err != nil {
			return nil, "", false, err
		}
		return out.Keys, out.NextMarker, out.Truncated, nil
	})
	if err != nil {
		return err
	}
	var token string // kmsd's markers name the last item listed
	if cut {
		token = keys[len(keys)-1].KeyId
	}
	return print(e.stdout, e.g, struct {
		Keys      []wire.KeyListEntry
		NextToken string `json:",omitempty"`
	}{keys, token})
}

type listAliasesCmd struct {
	KeyID string `name:"key-id" help:"Only the aliases of this key."`
	paging
}

func (c *listAliasesCmd) run(e *env) error {
	cl, err := e.client()
	if err != nil {
		return err
	}
	aliases, cut, err := collect(c.paging, func(limit int32, marker string) ([]wire.AliasListEntry, string, bool, error) {
		out, err := cl.ListAliases(e.ctx, &wire.ListAliasesInput{KeyId: c.KeyID, Limit: limit, Marker: marker})
		if err != nil {
			return nil, "", false, err
		}
		return out.Aliases, out.NextMarker, out.Truncated, nil
	})
	if err != nil {
		return err
	}
	var token string
	if cut {
		token = aliases[len(aliases)-1].AliasName
	}
	return print(e.stdout, e.g, struct {
		Aliases   []wire.AliasListEntry
		NextToken string `json:",omitempty"`
	}{aliases, token})
}

type listResourceTagsCmd struct {
	KeyID string `name:"key-id" required:""`
	paging
}

func (c *listResourceTagsCmd) run(e *env) error {
	cl, err := e.client()
	if err != nil {
		return err
	}
	tags, cut, err := collect(c.paging, func(limit int32, marker string) ([]wire.Tag, string, bool, error) {
		out, err := cl.ListResourceTags(e.ctx, &wire.ListResourceTagsInput{KeyId: c.KeyID, Limit: limit, Marker: marker})
		if err != nil {
			return nil, "", false, err
		}
		return out.Tags, out.NextMarker, out.Truncated, nil
	})
	if err != nil {
		return err
	}
	var token string
	if cut {
		token = tags[len(tags)-1].TagKey
	}
	return print(e.stdout, e.g, struct {
		Tags      []wire.Tag
		NextToken string `json:",omitempty"`
	}{tags, token})
}

type listKeyRotationsCmd struct {
	KeyID              string `name:"key-id" required:""`
	IncludeKeyMaterial string `help:"ROTATIONS_ONLY (default) or ALL_KEY_MATERIAL."`
	paging
}

func (c *listKeyRotationsCmd) run(e *env) error {
	cl, err := e.client()
	if err != nil {
		return err
	}
	rots, cut, err := collect(c.paging, func(limit int32, marker string) ([]wire.RotationsListEntry, string, bool, error) {
		out, err := cl.ListKeyRotations(e.ctx, &wire.ListKeyRotationsInput{KeyId: c.KeyID,
			IncludeKeyMaterial: c.IncludeKeyMaterial, Limit: limit, Marker: marker})
		if err != nil {
			return nil, "", false, err
		}
		return out.Rotations, out.NextMarker, out.Truncated, nil
	})
	if err != nil {
		return err
	}
	var token string
	if cut {
		// kmsd's rotation markers are positions: the first rotation is
		// version 2 (position 1), or version 1 with ALL_KEY_MATERIAL.
		start := 1
		if c.IncludeKeyMaterial == wire.IncludeAllKeyMaterial {
			start = 0
		}
		if n, err := strconv.Atoi(c.StartingToken); err == nil {
			start = n
		}
		token = strconv.Itoa(start + len(rots))
	}
	return print(e.stdout, e.g, struct {
		Rotations []wire.RotationsListEntry
		NextToken string `json:",omitempty"`
	}{rots, token})
}
