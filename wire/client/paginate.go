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

// The paginators, New<Operation>Paginator, are generated from the
// operation table with the client's methods (ops_gen.go): one for each
// operation that pages by Marker.
