package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/jmespath/go-jmespath"
)

// show writes a response as the aws CLI version 2 would: JSON (4-space
// indent, AWS field names in the service model's order, base64 blobs,
// ISO 8601 times, no HTML escaping) or text, after applying the JMESPath
// --query. A response with no fields prints nothing.
func show(w io.Writer, g *globals, v any) error {
	tree := v // a tree already (list), or a response to make one of
	if _, ok := v.(*object); !ok {
		tree = toTree(reflect.ValueOf(v))
	}
	if o, ok := tree.(*object); ok && len(o.keys) == 0 && g.Query == "" {
		return nil
	}
	if g.Output == "yaml" && g.Query == "" {
		var b bytes.Buffer
		writeYAML(&b, tree, "", false)
		_, err := w.Write(b.Bytes())
		return err
	}
	if g.Query != "" || g.Output != "json" {
		data := plain(tree)
		if g.Query != "" {
			var err error
			if data, err = jmespath.Search(g.Query, data); err != nil {
				return usageError{fmt.Errorf("--query: %w", err)}
			}
		}
		if g.Output == "table" {
			writeTable(w, g.op, data)
			return nil
		}
		if g.Output == "text" {
			var b strings.Builder
			// As the aws CLI: a paginated list's NextToken comes last, as
			// its own row.
			m, ok := data.(map[string]any)
			next, hasNext := m["NextToken"].(string)
			if ok && hasNext && g.Query == "" {
				delete(m, "NextToken")
			}
			writeText(&b, "", data)
			if ok && hasNext && g.Query == "" {
				b.WriteString("NEXTTOKEN\t" + next + "\n")
			}
			_, err := io.WriteString(w, b.String())
			return err
		}
		ranks := map[string]int{}
		// A multi-select hash's keys come in the query's order, as the
		// aws CLI keeps them; the response's fields in its order.
		for i, m := range multiSelectKey.FindAllStringSubmatch(g.Query, -1) {
			if _, ok := ranks[strings.Trim(m[1], `"`)]; !ok {
				ranks[strings.Trim(m[1], `"`)] = i - 1<<20
			}
		}
		keyRanks(tree, ranks)
		tree = ordered(data, ranks)
		if g.Output == "yaml" {
			var b bytes.Buffer
			writeYAML(&b, tree, "", false)
			_, err := w.Write(b.Bytes())
			return err
		}
	}
	var b bytes.Buffer
	writeJSON(&b, tree, "")
	b.WriteByte('\n')
	_, err := w.Write(b.Bytes())
	return err
}

// multiSelectKey finds the keys of a JMESPath multi-select hash ({Id: KeyId}).
var multiSelectKey = regexp.MustCompile(`[{,]\s*([A-Za-z_][A-Za-z0-9_]*|"[^"]*")\s*:`)

// writeText renders data like the AWS CLI's text output: a scalar alone on
// its line; a list of scalars tab-separated; an object as its name in
// upper case and its scalar values (in key order) tab-separated, then its
// lists and objects below it.
func writeText(b *strings.Builder, name string, data any) {
	switch v := data.(type) {
	case nil:
		if name == "" {
			b.WriteString("None\n")
		}
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var scalars []string
		for _, k := range keys {
			if isScalar(v[k]) {
				scalars = append(scalars, scalar(v[k]))
			}
		}
		if len(scalars) > 0 {
			if name != "" {
				scalars = append([]string{strings.ToUpper(name)}, scalars...)
			}
			b.WriteString(strings.Join(scalars, "\t") + "\n")
		}
		for _, k := range keys {
			if !isScalar(v[k]) {
				writeText(b, k, v[k])
			}
		}
	case []any:
		all := true
		for _, e := range v {
			all = all && isScalar(e)
		}
		if all {
			s := make([]string, 0, len(v)+1)
			if name != "" {
				s = append(s, strings.ToUpper(name))
			}
			for _, e := range v {
				s = append(s, scalar(e))
			}
			b.WriteString(strings.Join(s, "\t") + "\n")
			return
		}
		for _, e := range v {
			writeText(b, name, e)
		}
	default:
		b.WriteString(scalar(v) + "\n")
	}
}

func isScalar(v any) bool {
	switch v.(type) {
	case map[string]any, []any:
		return false
	}
	return true
}

func scalar(v any) string {
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
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}

// showLabelled prints v's scalar fields one a line, "Name<TAB>value", in
// the order of its JSON (nested objects' fields as Outer.Inner): kmsd's
// own records (status), whose many columns the AWS CLI's text form would
// print without names.
func showLabelled(w io.Writer, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var b strings.Builder
	var path []string
	expectKey := false
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{':
				expectKey = true
				continue
			case '}':
				if len(path) > 0 {
					path = path[:len(path)-1]
				}
			}
		case string:
			if expectKey {
				path = append(path, t)
				expectKey = false
				continue
			}
			fmt.Fprintf(&b, "%s\t%s\n", strings.Join(path, "."), t)
			path = path[:len(path)-1]
		default:
			fmt.Fprintf(&b, "%s\t%v\n", strings.Join(path, "."), t)
			path = path[:len(path)-1]
		}
		expectKey = true
	}
	_, err = io.WriteString(w, b.String())
	return err
}
