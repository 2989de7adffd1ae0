package main

import (
	"kmsd/cmd/kmsctl/internal/render"

	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"time"

	"kmsd/wire/client"
)

// paging is the AWS CLI's pagination: by default every page is fetched and
// the lists are joined; --max-items stops early and prints NextToken, which
// --starting-token continues from; --page-size sets each request's Limit.
// With --no-paginate, one request is made, with --limit and --marker, and
// its answer printed as kmsd gives it (NextMarker, Truncated).
type paging struct {
	MaxItems      int    `help:"Stop after this many items and print NextToken."`
	PageSize      *int32 `help:"Items per request to kmsd."`
	StartingToken string `help:"NextToken of an earlier call."`
	Limit         *int32 `help:"With --no-paginate: the most items in the answer."`
	Marker        string `help:"With --no-paginate: the NextMarker of an earlier answer."`
}

// token is a NextToken as the AWS CLI makes it: base64 of
// {"Marker": M, "boto_truncate_amount": N}, the Marker of the page to fetch
// (null for the first) and how many of its items were printed.
type token struct {
	Marker   string
	Truncate int
}

func (t token) String() string {
	var b bytes.Buffer
	b.WriteString(`{"Marker": `)
	if t.Marker == "" {
		b.WriteString("null")
	} else {
		render.JSON(&b, t.Marker)
	}
	if t.Truncate > 0 {
		b.WriteString(`, "boto_truncate_amount": ` + strconv.Itoa(t.Truncate))
	}
	b.WriteByte('}')
	return base64.StdEncoding.EncodeToString(b.Bytes())
}

func parseToken(s string) (token, error) {
	var t struct {
		Marker   *string `json:"Marker"`
		Truncate int     `json:"boto_truncate_amount"`
	}
	if s == "" {
		return token{}, nil
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(b, &t)
	}
	if err != nil || t.Truncate < 0 {
		return token{}, usageError{errors.New("--starting-token: not a NextToken that kmsctl or the aws CLI printed")}
	}
	tok := token{Truncate: t.Truncate}
	if t.Marker != nil {
		tok.Marker = *t.Marker
	}
	return tok, nil
}

// list pages through a List operation as the AWS CLI does and prints the
// items under name, with NextToken when --max-items cut them short. pager
// makes the paginator from the first page's marker and the page size.
func list[Item any](e *env, p paging, name string, pager func(c *client.Client, marker string, limit *int32) *client.Paginator[Item]) error {
	c, err := e.client()
	if err != nil {
		return err
	}
	out := &object{Vals: map[string]any{}}
	add := func(k string, v any) { out.Keys, out.Vals[k] = append(out.Keys, k), v }
	if e.g.NoPaginate {
		pg := pager(c, p.Marker, p.Limit)
		items, err := pg.NextPage(e.ctx)
		if err != nil {
			return err
		}
		add(name, toTree(reflect.ValueOf(items)))
		if pg.HasMorePages() {
			add("NextMarker", pg.Marker())
		}
		add("Truncated", pg.HasMorePages())
		return show(e.stdout, e.g, out)
	}
	items, next, err := pages(e, p, pager)
	if err != nil {
		return err
	}
	add(name, toTree(reflect.ValueOf(items)))
	if next != "" {
		add("NextToken", next)
	}
	return show(e.stdout, e.g, out)
}

// pages fetches the pages --max-items and --starting-token ask for.
func pages[Item any](e *env, p paging, pager func(c *client.Client, marker string, limit *int32) *client.Paginator[Item]) ([]Item, string, error) {
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
		start := time.Now()
		page, err := pg.NextPage(e.ctx)
		e.debugf("%s page answered in %v: %d items, %s", e.op, time.Since(start).Round(time.Microsecond), len(page), outcome(err))
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
