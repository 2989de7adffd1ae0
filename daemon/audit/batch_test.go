package audit

import (
	"encoding/json"
	"maps"
	"reflect"
	"testing"
	"time"
)

// batchItems is three items of one batch: the second failed to resolve
// its key, the third had another context.
func batchItems() []*Event {
	a, b, c := call(1), call(2), call(3)
	b.KeyID, b.Error, b.OutBytes = "", "NotFoundException", 0
	b.Alias = "alias/none"
	c.Context = map[string]string{"tenant": "b"}
	c.GrantID = "g1"
	return []*Event{a, b, c}
}

func TestFoldRoundTrip(t *testing.T) {
	items := batchItems()
	r := Fold("7:9", items, 256)
	if r.RequestID != "7:9" || r.Error != "" || r.InBytes != 96 || r.OutBytes != 188 || !r.Time.Equal(items[2].Time) || len(r.Items) != 3 {
		t.Fatalf("batch record %+v", r)
	}
	// Each gives back every item's facts as its own record had them.
	var got []*Event
	r.Each(func(e *Event) { x := *e; got = append(got, &x) })
	for i, e := range got {
		w := items[i]
		if e.KeyID != w.KeyID || e.Alias != w.Alias || e.GrantID != w.GrantID || e.Error != w.Error ||
			e.InBytes != w.InBytes || e.OutBytes != w.OutBytes || !maps.Equal(e.Context, w.Context) || e.Items != nil {
			t.Errorf("item %d: %+v, want %+v", i, e, w)
		}
	}
	// The JSON lists each item's index, result and sizes, and only what
	// differs from the record.
	var rec struct {
		KeyID   string            `json:"key_id"`
		Context map[string]string `json:"context"`
		InBytes int               `json:"in_bytes"`
		Items   []map[string]any  `json:"items"`
	}
	body := append(r.appendBody(nil), '}')
	if err := json.Unmarshal(body, &rec); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	want := []map[string]any{
		{"item": 256.0, "in_bytes": 32.0, "out_bytes": 94.0},
		{"item": 257.0, "key_id": "", "alias": "alias/none", "error": "NotFoundException", "in_bytes": 32.0, "out_bytes": 0.0},
		{"item": 258.0, "grant_id": "g1", "context": map[string]any{"tenant": "b"}, "in_bytes": 32.0, "out_bytes": 94.0},
	}
	if rec.KeyID != items[0].KeyID || rec.Context["tenant"] != "a" || rec.InBytes != 96 || !reflect.DeepEqual(rec.Items, want) {
		t.Errorf("record JSON %s", body)
	}
	if Fold("x", nil, 0) != nil {
		t.Error("Fold of no items made a record")
	}
}

func TestBatchRecordsInUsageAndQuery(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 3, 0, time.UTC)
	dir := t.TempDir()
	w := open(t, dir, &memStore{}, func(c *Config) { c.Now = func() time.Time { return now } })
	if err := w.Append(Fold("7:9", batchItems(), 0)); err != nil {
		t.Fatal(err)
	}
	// Usage counts items: 3 requests on two keys ("" for the failed one).
	var reqs, errs int64
	for _, c := range w.Usage().Counts(time.Hour) {
		reqs += c.Requests
		errs += c.Errors
	}
	if reqs != 3 || errs != 1 {
		t.Errorf("usage counted %d requests, %d errors; want 3, 1", reqs, errs)
	}
	if last, ok := w.Usage().Last(call(1).KeyID); !ok || last.Operation != "Encrypt" {
		t.Errorf("last use %+v %v", last, ok)
	}
	w.Close()
	files, _ := Files(dir)
	for name, c := range map[string]struct {
		f    Filter
		want int
	}{
		"an item's error":      {Filter{Result: "NotFoundException"}, 1},
		"an item's alias":      {Filter{KeyID: "alias/none"}, 1},
		"the record's key":     {Filter{KeyID: call(1).KeyID}, 1},
		"no item has it":       {Filter{Result: "AccessDeniedException"}, 0},
		"successful items":     {Filter{Result: "success", Operation: "Encrypt"}, 1},
		"another key, no item": {Filter{KeyID: "other"}, 0},
	} {
		n := 0
		Query(files, c.f, func([]byte) error { n++; return nil })
		if n != c.want {
			t.Errorf("%s: %d records, want %d", name, n, c.want)
		}
	}
	if r := verify(t, dir, nil); r.Problem != nil {
		t.Errorf("a trail with a batch record does not verify: %+v", r)
	}
}
