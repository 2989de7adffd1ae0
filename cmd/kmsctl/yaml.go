package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// writeYAML writes a tree as the aws CLI's --output yaml does (YAML 1.2,
// as its emitter writes it): block style, keys sorted, lists as "- "
// items, strings plain unless YAML would read them as something else (then
// single-quoted, or double-quoted with escapes, folded at 80 columns, when
// they hold a control character).
func writeYAML(b *bytes.Buffer, t any, indent string, inList bool) {
	switch v := t.(type) {
	case *object:
		if len(v.keys) == 0 {
			b.WriteString("{}\n")
			return
		}
		keys := append([]string(nil), v.keys...)
		sort.Strings(keys)
		for i, k := range keys {
			if i > 0 || !inList {
				b.WriteString(indent)
			}
			b.WriteString(yamlScalar(k) + ":")
			yamlValue(b, v.vals[k], indent)
		}
	case []any:
		if len(v) == 0 {
			b.WriteString("[]\n")
			return
		}
		for i, e := range v {
			if i > 0 || !inList {
				b.WriteString(indent)
			}
			b.WriteString("- ")
			switch e.(type) {
			case *object, []any:
				writeYAML(b, e, indent+"  ", true)
			default:
				b.WriteString(yamlScalar(e) + "\n")
			}
		}
	default:
		b.WriteString(yamlScalar(v) + "\n")
	}
}

// yamlValue writes what follows "key:".
func yamlValue(b *bytes.Buffer, v any, indent string) {
	switch x := v.(type) {
	case *object:
		if len(x.keys) == 0 {
			b.WriteString(" {}\n")
			return
		}
		b.WriteString("\n")
		writeYAML(b, x, indent+"  ", false)
	case []any:
		if len(x) == 0 {
			b.WriteString(" []\n")
			return
		}
		b.WriteString("\n")
		writeYAML(b, x, indent, false)
	default:
		b.WriteString(" ")
		writeYAMLScalar(b, v, indent)
	}
}

// writeYAMLScalar writes a scalar where the line so far ends, and its
// newline; a double-quoted string longer than the line folds at its
// spaces onto lines indented under indent (at the first space past
// column 80, which the fold reads back as that space).
func writeYAMLScalar(b *bytes.Buffer, v any, indent string) {
	s, ok := v.(string)
	if !ok || !strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		b.WriteString(yamlScalar(v) + "\n")
		return
	}
	line := b.Bytes()[bytes.LastIndexByte(b.Bytes(), '\n')+1:]
	col := len(line) + 1
	b.WriteByte('"')
	for i, r := range s {
		if r == ' ' && i > 0 && i < len(s)-1 && col > 80 {
			b.WriteString("\n" + indent + "  ")
			col = len(indent) + 2
			continue
		}
		e := yamlEscape(r)
		b.WriteString(e)
		col += len(e)
	}
	b.WriteString("\"\n")
}

func yamlEscape(r rune) string {
	switch r {
	case '"':
		return `\"`
	case '\\':
		return `\\`
	case '\n':
		return `\n`
	case '\t':
		return `\t`
	case '\r':
		return `\r`
	}
	if r < 0x20 || r == 0x7f {
		return fmt.Sprintf(`\x%02X`, r)
	}
	return string(r)
}

// yamlPlainUnsafe are strings a YAML reader would not read back as the
// same string if written plain: booleans, nulls, numbers and timestamps
// (YAML 1.1's and 1.2's forms), and what begins or holds YAML's syntax.
var yamlPlainUnsafe = regexp.MustCompile(`^(?i:true|false|null|~)$` +
	`|^[-+]?[0-9][0-9_]*$|^0o[0-7]+$|^0x[0-9a-fA-F_]+$|^0b[01_]+$` +
	`|^[-+]?(\.[0-9]+|[0-9][0-9_]*(\.[0-9_]*)?)([eE][-+]?[0-9]+)?$|^[-+]?\.(?i:inf)$|^\.(?i:nan)$` +
	`|^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}` +
	`|^[-?:,\[\]{}#&*!|>'"%@` + "`" + `]|^\s|\s$|: |\s#|:$|^---|^\.\.\.`)

func yamlScalar(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return strconv.FormatBool(x)
	case json.Number:
		return string(x)
	case string:
		switch {
		case x == "":
			return "''"
		case strings.ContainsFunc(x, func(r rune) bool { return r < 0x20 || r == 0x7f }):
			q, _ := json.Marshal(x)
			return string(q)
		case yamlPlainUnsafe.MatchString(x):
			return "'" + strings.ReplaceAll(x, "'", "''") + "'"
		}
		return x
	}
	q, _ := json.Marshal(v)
	return string(q)
}
