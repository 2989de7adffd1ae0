package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"

	"kmsd/daemon/audit"
)

// auditUsageCmd counts requests from trails' files: what kmsctl usage
// asks one kmsd for, over any span and over every host of a fleet.
type auditUsageCmd struct {
	auditFiles
	Since string `help:"From this time, inclusive; the forms of audit query --since."`
	Until string `help:"Until this time, exclusive."`
}

// usageRecord is what audit usage reads of a record.
type usageRecord struct {
	Type   string `json:"type"`
	Event  string `json:"event"`
	KeyID  string `json:"key_id"`
	Error  string `json:"error"`
	Count  int    `json:"count"`
	Caller struct {
		UID  *uint32 `json:"uid"`
		Unit string  `json:"unit"`
	} `json:"caller"`
}

func (c *auditUsageCmd) run(e *env) error {
	var f audit.Filter
	if err := setSpan(&f, c.Since, c.Until); err != nil {
		return err
	}
	trails, err := c.trails(e)
	if err != nil {
		return err
	}
	type row struct{ key, principal, op string }
	counts := map[row][2]int64{} // requests, errors
	err = audit.QueryTrails(trails, f, func(line []byte) error {
		var r usageRecord
		if json.Unmarshal(line, &r) != nil || r.Type != audit.TypeCall {
			return nil
		}
		p := r.Caller.Unit
		switch {
		case p != "":
			p = "unit:" + p
		case r.Caller.UID != nil:
			p = fmt.Sprintf("uid:%d", *r.Caller.UID)
		}
		k := row{r.KeyID, p, r.Event}
		n := counts[k]
		n[0] += int64(max(1, r.Count))
		if r.Error != "" {
			n[1] += int64(max(1, r.Count))
		}
		counts[k] = n
		return nil
	})
	if err != nil {
		return err
	}
	rows := make([]row, 0, len(counts))
	for k := range counts {
		rows = append(rows, k)
	}
	slices.SortFunc(rows, func(a, b row) int {
		return cmp.Or(cmp.Compare(counts[b][0], counts[a][0]), cmp.Compare(a.key, b.key), cmp.Compare(a.principal, b.principal), cmp.Compare(a.op, b.op))
	})
	list := make([]any, 0, len(rows))
	for _, r := range rows {
		list = append(list, &object{Keys: []string{"KeyId", "Principal", "Operation", "Requests", "Errors"},
			Vals: map[string]any{"KeyId": r.key, "Principal": r.principal, "Operation": r.op,
				"Requests": json.Number(fmt.Sprint(counts[r][0])), "Errors": json.Number(fmt.Sprint(counts[r][1]))}})
	}
	return show(e.stdout, e.g, &object{Keys: []string{"Usage"}, Vals: map[string]any{"Usage": list}})
}
