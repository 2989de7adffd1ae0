package render

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// JSON writes a tree as the aws CLI's --output json does, without the
// final newline: four spaces of indent, keys in the Object's order, an
// empty object or list as {} or [], strings escaped as encoding/json
// escapes them but for HTML's characters, which stay as they are.
func JSON(w io.Writer, t any) {
	var b strings.Builder
	writeJSON(&b, t, "")
	io.WriteString(w, b.String())
}

func writeJSON(b *strings.Builder, t any, indent string) {
	switch v := t.(type) {
	case *Object:
		if len(v.Keys) == 0 {
			b.WriteString("{}")
			return
		}
		b.WriteString("{\n")
		for i, k := range v.Keys {
			b.WriteString(indent + "    ")
			jsonString(b, k)
			b.WriteString(": ")
			writeJSON(b, v.Vals[k], indent+"    ")
			if i < len(v.Keys)-1 {
				b.WriteByte(',')
			}
			b.WriteByte('\n')
		}
		b.WriteString(indent + "}")
	case []any:
		if len(v) == 0 {
			b.WriteString("[]")
			return
		}
		b.WriteString("[\n")
		for i, e := range v {
			b.WriteString(indent + "    ")
			writeJSON(b, e, indent+"    ")
			if i < len(v)-1 {
				b.WriteByte(',')
			}
			b.WriteByte('\n')
		}
		b.WriteString(indent + "]")
	case string:
		jsonString(b, v)
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(v))
	case json.Number:
		b.WriteString(string(v))
	case float64:
		b.WriteString(Number(v))
	default:
		j, err := json.Marshal(v)
		if err != nil {
			b.WriteString("null")
			return
		}
		b.Write(j)
	}
}

// jsonString writes s quoted: '"' and '\\' escaped, control characters
// as \n, \r, \t, \b, \f or \u00XX, bytes that are not UTF-8 as \ufffd,
// everything else as it is (no HTML escapes, and U+2028 and U+2029 raw,
// as the aws CLI writes them).
func jsonString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		switch {
		case r == utf8.RuneError && n == 1:
			b.WriteString(`\ufffd`)
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r < 0x20:
			fmt.Fprintf(b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
}

// JSONLine writes a tree as one line of compact JSON (JSON Lines), keys
// in the Object's order, strings as JSON writes them; without the final
// newline.
func JSONLine(w io.Writer, t any) {
	var b strings.Builder
	writeJSONLine(&b, t)
	io.WriteString(w, b.String())
}

func writeJSONLine(b *strings.Builder, t any) {
	switch v := t.(type) {
	case *Object:
		b.WriteByte('{')
		for i, k := range v.Keys {
			if i > 0 {
				b.WriteByte(',')
			}
			jsonString(b, k)
			b.WriteByte(':')
			writeJSONLine(b, v.Vals[k])
		}
		b.WriteByte('}')
	case []any:
		b.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSONLine(b, e)
		}
		b.WriteByte(']')
	case map[string]any:
		o := &Object{Vals: v}
		for k := range v {
			o.Keys = append(o.Keys, k)
		}
		slices.Sort(o.Keys)
		writeJSONLine(b, o)
	default:
		writeJSON(b, v, "")
	}
}
