package render

import (
	"encoding/json"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Object is a JSON object whose keys keep their order.
type Object struct {
	Keys []string
	Vals map[string]any
}

// NewObject makes an empty Object.
func NewObject() *Object { return &Object{Vals: map[string]any{}} }

// Set adds (or replaces) key.
func (o *Object) Set(key string, v any) {
	if _, ok := o.Vals[key]; !ok {
		o.Keys = append(o.Keys, key)
	}
	o.Vals[key] = v
}

// sortedKeys are o's keys in byte order, which text, table and yaml use.
func (o *Object) sortedKeys() []string {
	keys := append([]string(nil), o.Keys...)
	sort.Strings(keys)
	return keys
}

// Normalize turns encoding/json's generic values into a tree: each
// map[string]any becomes an *Object with its keys sorted.
func Normalize(v any) any {
	switch x := v.(type) {
	case map[string]any:
		o := &Object{Vals: make(map[string]any, len(x))}
		for k, e := range x {
			o.Keys = append(o.Keys, k)
			o.Vals[k] = Normalize(e)
		}
		sort.Strings(o.Keys)
		return o
	case []any:
		l := make([]any, len(x))
		for i, e := range x {
			l[i] = Normalize(e)
		}
		return l
	}
	return v
}

// isScalar reports whether v is neither an object nor a list.
func isScalar(v any) bool {
	switch v.(type) {
	case *Object, []any:
		return false
	}
	return true
}

// isBlank reports whether v is a value the text and table forms leave
// out where it would be a section of its own: null, false, zero, "" and
// empty objects and lists.
func isBlank(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case *Object:
		return len(x.Keys) == 0
	case []any:
		return len(x) == 0
	case string:
		return x == ""
	case bool:
		return !x
	case float64:
		return x == 0
	case json.Number:
		f, err := x.Float64()
		return err == nil && f == 0
	}
	return false
}

// Word is a scalar as the text and table forms write it: True, False and
// None for true, false and null; numbers as JSON writes them.
func Word(v any) string {
	switch x := v.(type) {
	case nil:
		return "None"
	case bool:
		if x {
			return "True"
		}
		return "False"
	case string:
		return x
	case json.Number:
		return string(x)
	case float64:
		return Number(x)
	case *Object, []any:
		var b strings.Builder
		JSON(&b, v)
		return b.String()
	}
	return ""
}

// Number writes a number as the aws CLI prints one that JMESPath made: a
// whole number (below 2^53) without a fraction; any other in the
// shortest form that reads back the same, with an exponent below 1e-4 or
// from 1e16.
func Number(f float64) string {
	switch {
	case math.IsNaN(f) || math.IsInf(f, 0):
		return "null" // JSON has no such numbers
	case f == math.Trunc(f) && math.Abs(f) < 1<<53:
		return strconv.FormatInt(int64(f), 10)
	}
	if a := math.Abs(f); a < 1e-4 || a >= 1e16 {
		return strconv.FormatFloat(f, 'e', -1, 64)
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}
