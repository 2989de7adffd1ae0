package audit

import (
	"maps"
	"strconv"
)

// Item is one item of a batch record: its index in the batch request and
// what sets it apart from the record. A field is written only where the
// item differs from the record's own field (the first item's); a reader
// takes the record's field where the item has none.
type Item struct {
	Index     int
	KeyID     string
	SourceKey string
	// KeyVersion and SourceKeyVersion are the item's versions where
	// either differs from the record's (Versions set); else 0.
	KeyVersion, SourceKeyVersion uint32
	Versions                     bool
	Alias                        string
	GrantID                      string
	Context                      map[string]string
	DestContext                  map[string]string
	Error                        string
	InBytes                      int
	OutBytes                     int
}

// Fold makes one record of the records of a batch request's items
// evs[0..], which are items first, first+1, ... of the request reqID. The
// record has the call's time (the last item's), name and caller, the first
// item's key, alias, grant and contexts, the total sizes, and an Item per
// item with its index, its error and sizes and what differs from the
// first. One record per batch (of up to 128 items) instead of one per
// item makes the trail's work per item (encoding, hashing, writing and
// flushing about 330 bytes) about ten times smaller.
func Fold(reqID string, evs []*Event, first int) *Event {
	if len(evs) == 0 {
		return nil
	}
	h := evs[0]
	b := &Event{Time: evs[len(evs)-1].Time, Type: h.Type, Name: h.Name, RequestID: reqID, Caller: h.Caller,
		KeyID: h.KeyID, KeyVersion: h.KeyVersion, SourceKey: h.SourceKey, SourceKeyVersion: h.SourceKeyVersion, Alias: h.Alias, GrantID: h.GrantID, Context: h.Context, DestContext: h.DestContext,
		Items: make([]Item, len(evs))}
	for i, e := range evs {
		it := &b.Items[i]
		*it = Item{Index: first + i, Error: e.Error, InBytes: e.InBytes, OutBytes: e.OutBytes}
		b.InBytes += e.InBytes
		b.OutBytes += e.OutBytes
		if i == 0 {
			continue
		}
		it.KeyID, it.SourceKey, it.Alias, it.GrantID = differ(e.KeyID, h.KeyID), differ(e.SourceKey, h.SourceKey), differ(e.Alias, h.Alias), differ(e.GrantID, h.GrantID)
		if e.KeyVersion != h.KeyVersion || e.SourceKeyVersion != h.SourceKeyVersion {
			it.KeyVersion, it.SourceKeyVersion, it.Versions = e.KeyVersion, e.SourceKeyVersion, true
		}
		if !maps.Equal(e.Context, h.Context) {
			it.Context = orEmpty(e.Context)
		}
		if !maps.Equal(e.DestContext, h.DestContext) {
			it.DestContext = orEmpty(e.DestContext)
		}
	}
	return b
}

// noValue marks an item field that is empty where the record's is not.
const noValue = "\x00"

func differ(v, common string) string {
	switch {
	case v == common:
		return ""
	case v == "":
		return noValue
	}
	return v
}

func orEmpty(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// appendItems appends the "items" array of a batch record.
func appendItems(b []byte, items []Item) []byte {
	b = append(b, `,"items":[`...)
	for i := range items {
		it := &items[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"item":`...)
		b = strconv.AppendInt(b, int64(it.Index), 10)
		for _, f := range [...]struct{ name, v string }{
			{`,"key_id":`, it.KeyID}, {`,"source_key_id":`, it.SourceKey}, {`,"alias":`, it.Alias},
			{`,"grant_id":`, it.GrantID}, {`,"error":`, it.Error},
		} {
			switch f.v {
			case "":
			case noValue:
				b = append(b, f.name...)
				b = append(b, `""`...)
			default:
				b = append(b, f.name...)
				b = appendString(b, f.v)
			}
		}
		if it.Versions {
			b = append(b, `,"key_version":`...)
			b = strconv.AppendUint(b, uint64(it.KeyVersion), 10)
			b = append(b, `,"source_key_version":`...)
			b = strconv.AppendUint(b, uint64(it.SourceKeyVersion), 10)
		}
		if it.Context != nil {
			b = append(b, `,"context":`...)
			b = appendMap(b, it.Context)
		}
		if it.DestContext != nil {
			b = append(b, `,"destination_context":`...)
			b = appendMap(b, it.DestContext)
		}
		b = append(b, `,"in_bytes":`...)
		b = strconv.AppendInt(b, int64(it.InBytes), 10)
		b = append(b, `,"out_bytes":`...)
		b = strconv.AppendInt(b, int64(it.OutBytes), 10)
		b = append(b, '}')
	}
	return append(b, ']')
}

// Each calls fn with the facts of every request a record stands for: the
// record itself, or for a batch record each item with the record's fields
// where the item has none (Items is nil in what fn gets).
func (e *Event) Each(fn func(*Event)) {
	if len(e.Items) == 0 {
		fn(e)
		return
	}
	var x Event
	for i := range e.Items {
		it := &e.Items[i]
		x = *e
		x.Items = nil
		x.Error, x.InBytes, x.OutBytes = it.Error, it.InBytes, it.OutBytes
		x.KeyID, x.SourceKey, x.Alias, x.GrantID = pick(it.KeyID, e.KeyID), pick(it.SourceKey, e.SourceKey), pick(it.Alias, e.Alias), pick(it.GrantID, e.GrantID)
		if it.Versions {
			x.KeyVersion, x.SourceKeyVersion = it.KeyVersion, it.SourceKeyVersion
		}
		if it.Context != nil {
			x.Context = it.Context
		}
		if it.DestContext != nil {
			x.DestContext = it.DestContext
		}
		fn(&x)
	}
}

func pick(item, common string) string {
	switch item {
	case "":
		return common
	case noValue:
		return ""
	}
	return item
}
