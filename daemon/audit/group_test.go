package audit

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

// TestGroupRecords: a group record stands for its items everywhere: its
// JSON has their count and failed indexes, usage counts every item,
// GetKeyLastUsage sees its success, and query matches it as its items.
func TestGroupRecords(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	dir := t.TempDir()
	w := open(t, dir, &memStore{}, func(c *Config) { c.Now = func() time.Time { return now } })
	ok := call(1)
	ok.Time, ok.RequestID, ok.Count, ok.InBytes = now, "3:7", 500, 16000
	bad := call(2)
	bad.Time, bad.RequestID, bad.Error, bad.Count, bad.Failed = now, "3:7", "DisabledException", 3, []int{4, 9, 511}
	if err := w.Append(ok, bad); err != nil {
		t.Fatal(err)
	}
	c := w.Usage().Counts(time.Hour)
	if len(c) != 1 || c[0].Requests != 503 || c[0].Errors != 3 {
		t.Errorf("usage %+v, want 503 requests and 3 errors", c)
	}
	if l, found := w.Usage().Last(ok.KeyID); !found || l.Seq != ok.Seq {
		t.Errorf("last use %+v", l)
	}
	w.Close()
	files, _ := Files(dir)
	var recs []map[string]any
	for _, f := range []Filter{{Result: "error"}, {Result: "success", Operation: "Encrypt"}} {
		err := Query(files, f, func(line []byte) error {
			var m map[string]any
			if err := json.Unmarshal(line, &m); err != nil {
				return err
			}
			recs = append(recs, m)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(recs) != 2 || recs[0]["items"] != 3.0 || !reflect.DeepEqual(recs[0]["failed"], []any{4.0, 9.0, 511.0}) ||
		recs[1]["items"] != 500.0 || recs[1]["failed"] != nil || recs[1]["in_bytes"] != 16000.0 {
		t.Errorf("records %v", recs)
	}
}
