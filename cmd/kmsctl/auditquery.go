package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"kmsd/daemon/audit"
)

type auditQueryCmd struct {
	auditFiles
	KeyID     string `name:"key-id" help:"Records of this key: a key id, or an alias or ARN, which kmsd resolves (its records name the alias, the key's name the key)."`
	Principal string `help:"Records of this caller: uid:N or unit:NAME."`
	Operation string `help:"Records of this operation, e.g. Decrypt."`
	Result    string `help:"success, error, or an exception name (AccessDeniedException)."`
	Since     string `help:"From this time, inclusive: RFC 3339, a date (2026-12-05, local midnight), a time before now (-1h, -30m, -2d), today, yesterday or now."`
	Until     string `help:"Until this time, exclusive; the forms of --since."`
}

// maxQueried bounds the records --query or a non-JSON --output holds at
// once: those print one document, so the records are read first.
const maxQueried = 100_000

// exceptionName is the form of an AWS exception name.
var exceptionName = regexp.MustCompile(`^[A-Z][A-Za-z0-9]*Exception$`)

func (c *auditQueryCmd) run(e *env) error {
	f := audit.Filter{KeyID: c.KeyID, Principal: c.Principal, Operation: c.Operation, Result: c.Result}
	if r := c.Result; r != "" && r != "success" && r != "error" && !exceptionName.MatchString(r) {
		return usageError{fmt.Errorf("--result %q: want success, error, or an exception name such as AccessDeniedException", r)}
	}
	if err := setSpan(&f, c.Since, c.Until); err != nil {
		return err
	}
	trails, err := c.trails(e)
	if err != nil {
		return err
	}
	if strings.HasPrefix(c.KeyID, "alias/") || strings.HasPrefix(c.KeyID, "arn:") {
		// Unresolved (kmsd not reachable, the alias gone), the records that
		// name it still match.
		if id, err := resolveKey(e, c.KeyID); err != nil {
			fmt.Fprintf(e.stderr, "kmsctl: note: %v; showing only the records that name %s\n", err, c.KeyID)
		} else {
			f.AlsoKeyIDs = []string{id}
		}
	}
	if e.g.Query == "" && e.g.Output == "json" {
		// JSON Lines, a record a line, as they are read.
		return audit.QueryTrails(trails, f, func(line []byte) error {
			_, err := fmt.Fprintf(e.stdout, "%s\n", line)
			return err
		})
	}
	// Like every other command's answer: {"Records": [...]}, then --query
	// and --output.
	var records []any
	err = audit.QueryTrails(trails, f, func(line []byte) error {
		if len(records) == maxQueried {
			return fmt.Errorf("more than %d records match: narrow the query (--since, --key-id, --operation), or print JSON Lines (no --query, --output json)", maxQueried)
		}
		r, err := jsonTree(line)
		if err != nil {
			return fmt.Errorf("a record that is not JSON: %w", err)
		}
		records = append(records, r)
		return nil
	})
	if err != nil {
		return err
	}
	return show(e.stdout, e.g, &object{Keys: []string{"Records"}, Vals: map[string]any{"Records": records}})
}

// setSpan sets f's Since and Until from --since and --until as a person
// types them (parseWhen); a bad one is a usage error naming its flag.
func setSpan(f *audit.Filter, since, until string) error {
	now := time.Now()
	for _, t := range []struct {
		flag, v string
		dst     *time.Time
	}{{"since", since, &f.Since}, {"until", until, &f.Until}} {
		if t.v == "" {
			continue
		}
		v, err := parseWhen(t.v, now)
		if err != nil {
			return usageError{fmt.Errorf("--%s: %w", t.flag, err)}
		}
		*t.dst = v
	}
	return nil
}

// parseWhen reads a time as a person types it: RFC 3339; a date (local
// midnight); a duration before now (-1h, -90m, -2d, -1w; the sign may be
// left out); today, yesterday or now.
func parseWhen(s string, now time.Time) (time.Time, error) {
	midnight := func(t time.Time) time.Time { return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, t.Location()) }
	switch strings.ToLower(s) {
	case "now":
		return now, nil
	case "today":
		return midnight(now), nil
	case "yesterday":
		return midnight(now).AddDate(0, 0, -1), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation("2006-01-02", s, time.Local); err == nil {
		return t, nil
	}
	if d, ok := before(s); ok {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("%q is not a time: give RFC 3339 (2026-12-05T10:00:00Z), a date (2026-12-05), a time before now (-1h, -30m, -2d), today, yesterday or now", s)
}

// before reads -1h, 90m, -2d or -1w as a duration back from now.
func before(s string) (time.Duration, bool) {
	s = strings.TrimPrefix(s, "-")
	if s == "" || strings.HasPrefix(s, "-") || strings.HasPrefix(s, "+") {
		return 0, false
	}
	for unit, d := range map[string]time.Duration{"d": 24 * time.Hour, "w": 7 * 24 * time.Hour} {
		if n, ok := strings.CutSuffix(s, unit); ok {
			var v int
			if _, err := fmt.Sscanf(n, "%d", &v); err != nil || fmt.Sprint(v) != n || v < 0 {
				return 0, false
			}
			return time.Duration(v) * d, true
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, false
	}
	return d, true
}

// jsonTree reads a JSON document into the tree kmsctl prints, keeping
// its objects' keys in order.
func jsonTree(doc []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(doc))
	d.UseNumber()
	v, err := treeValue(d)
	if err != nil {
		return nil, err
	}
	if _, err := d.Token(); err == nil {
		return nil, errors.New("more than one value")
	}
	return v, nil
}

func treeValue(d *json.Decoder) (any, error) {
	tok, err := d.Token()
	if err != nil {
		return nil, err
	}
	switch tok {
	case json.Delim('{'):
		o := &object{Vals: map[string]any{}}
		for d.More() {
			k, err := d.Token()
			if err != nil {
				return nil, err
			}
			v, err := treeValue(d)
			if err != nil {
				return nil, err
			}
			name := k.(string)
			if _, dup := o.Vals[name]; !dup {
				o.Keys = append(o.Keys, name)
			}
			o.Vals[name] = v
		}
		_, err := d.Token()
		return o, err
	case json.Delim('['):
		l := []any{}
		for d.More() {
			v, err := treeValue(d)
			if err != nil {
				return nil, err
			}
			l = append(l, v)
		}
		_, err := d.Token()
		return l, err
	}
	return tok, nil // string, json.Number, bool or nil
}
