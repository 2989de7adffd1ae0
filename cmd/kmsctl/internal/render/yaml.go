package render

import (
	"fmt"
	"io"
	"regexp"
	"strings"
	"unicode/utf8"
)

// YAML writes a tree as the aws CLI's --output yaml does: block style,
// keys sorted, two spaces of indent, a list under a key starting at the
// key's column ("- " items), a list's objects and lists begun on the
// item's line, {} and [] for empty ones. An empty object as the answer
// writes nothing; a string as the answer is written double-quoted.
//
// A string is written in one of three styles:
//
//   - plain, when YAML would read it back as the same string;
//   - single-quoted, when plain would read as something else (a boolean,
//     null, number or timestamp of YAML 1.2, '=' or '<<'), or starts with
//     one of YAML's indicators, has ": " or " #" in it, ends with ':' or
//     a space, starts with a space, or holds line breaks (k of them in a
//     row written as k+1, the text going on indented);
//   - double-quoted, with escapes, when it holds a character that is not
//     printable (a control character but the line feed, DEL, U+0085, a
//     line or paragraph separator, the byte-order mark, one past U+FFFF,
//     or a byte that is not UTF-8), or a space next to a line break.
//
// Lines are folded at the first single space past column 80 (the fold
// reads back as that space), continuing two columns in from the
// mapping's indent.
func YAML(w io.Writer, t any) {
	var b strings.Builder
	y := yamlWriter{b: &b}
	switch v := t.(type) {
	case *Object:
		if len(v.Keys) == 0 {
			return
		}
		y.mapping(v, 0, false)
	case []any:
		if len(v) == 0 {
			b.WriteString("[]\n")
		} else {
			y.sequence(v, 0, false)
		}
	case string:
		y.scalar(v, 0, styleDouble)
		b.WriteByte('\n')
	default:
		b.WriteString(yamlWord(v) + "\n")
	}
	io.WriteString(w, b.String())
}

type yamlWriter struct {
	b   *strings.Builder
	col int // the column the line so far ends at
}

func (y *yamlWriter) write(s string) {
	y.b.WriteString(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		y.col = utf8.RuneCountInString(s[i+1:])
	} else {
		y.col += utf8.RuneCountInString(s)
	}
}

// mapping writes o's fields at indent; inline says the line so far is an
// item's "- ", on which the first field goes.
func (y *yamlWriter) mapping(o *Object, indent int, inline bool) {
	for i, k := range o.sortedKeys() {
		if i > 0 || !inline {
			y.write(strings.Repeat(" ", indent))
		}
		y.scalar(k, indent, styleFor(k))
		y.write(":")
		switch v := o.Vals[k].(type) {
		case *Object:
			if len(v.Keys) == 0 {
				y.write(" {}\n")
				continue
			}
			y.write("\n")
			y.mapping(v, indent+2, false)
		case []any:
			if len(v) == 0 {
				y.write(" []\n")
				continue
			}
			y.write("\n")
			y.sequence(v, indent, false)
		default:
			y.write(" ")
			y.value(v, indent)
			y.write("\n")
		}
	}
}

// sequence writes l's items at indent; inline as for mapping.
func (y *yamlWriter) sequence(l []any, indent int, inline bool) {
	for i, e := range l {
		if i > 0 || !inline {
			y.write(strings.Repeat(" ", indent))
		}
		y.write("- ")
		switch v := e.(type) {
		case *Object:
			if len(v.Keys) == 0 {
				y.write("{}\n")
				continue
			}
			y.mapping(v, indent+2, true)
		case []any:
			if len(v) == 0 {
				y.write("[]\n")
				continue
			}
			y.sequence(v, indent+2, true)
		default:
			y.value(v, indent)
			y.write("\n")
		}
	}
}

// value writes a scalar in a mapping or sequence at indent.
func (y *yamlWriter) value(v any, indent int) {
	if s, ok := v.(string); ok {
		y.scalar(s, indent, styleFor(s))
		return
	}
	y.write(yamlWord(v))
}

// yamlWord is a scalar other than a string, in YAML.
func yamlWord(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		if x {
			return "true"
		}
		return "false"
	}
	return Word(v)
}

type yamlStyle int

const (
	stylePlain yamlStyle = iota
	styleSingle
	styleDouble
)

// styleFor is the style string s is written in (see YAML).
func styleFor(s string) yamlStyle {
	switch {
	case strings.IndexFunc(s, unprintable) >= 0 || !utf8.ValidString(s),
		strings.Contains(s, " \n"), strings.Contains(s, "\n "):
		return styleDouble
	case s == "" || strings.ContainsRune(s, '\n') || yamlResolves.MatchString(s) || needsQuotes(s):
		return styleSingle
	}
	return stylePlain
}

// unprintable reports whether YAML must escape r (a line feed is written
// as a line break).
func unprintable(r rune) bool {
	switch {
	case r == '\n':
		return false
	case r < 0x20 || r == 0x7f || r == 0x85 || r == 0x2028 || r == 0x2029 || r == 0xfeff:
		return true
	case r >= 0x80 && r < 0xa0, r >= 0xd800 && r < 0xe000, r > 0xfffd:
		return true
	}
	return false
}

// yamlResolves matches the plain strings a YAML 1.2 reader takes for
// something else: booleans, null, integers (with _ separators, octal,
// hex and binary forms), floats, infinities, NaN, timestamps, and the
// value and merge keys.
var yamlResolves = regexp.MustCompile(`^(?:` +
	`true|True|TRUE|false|False|FALSE|null|Null|NULL|~|=|<<` +
	`|[-+]?[0-9_]+|0o[0-7_]+|0x[0-9a-fA-F_]+|0b[01_]+` +
	`|[-+]?(?:\.[0-9_]+|[0-9][0-9_]*(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?` +
	`|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)` +
	`|[0-9]{4}-[0-9]{2}-[0-9]{2}` +
	`|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?` +
	`)$`)

// needsQuotes reports whether s, written plain, would not read back as
// itself for its syntax: an indicator first, ": " or " #" inside, a
// trailing ':', spaces at either end, or a document marker.
func needsQuotes(s string) bool {
	switch {
	case strings.ContainsAny(s[:1], ",[]{}#&*!|>'\"%@`"),
		(s[0] == '-' || s[0] == '?' || s[0] == ':') && (len(s) == 1 || s[1] == ' '),
		strings.Contains(s, ": "), strings.Contains(s, " #"), strings.HasSuffix(s, ":"),
		s[0] == ' ', s[len(s)-1] == ' ',
		strings.HasPrefix(s, "---"), strings.HasPrefix(s, "..."):
		return true
	}
	return false
}

// foldAt is the column past which lines are folded.
const foldAt = 80

// scalar writes s in style; a fold continues at indent+2.
func (y *yamlWriter) scalar(s string, indent int, style yamlStyle) {
	cont := "\n" + strings.Repeat(" ", indent+2)
	switch style {
	case stylePlain:
		y.fold(s, cont, false)
	case styleSingle:
		y.write("'")
		text := strings.ReplaceAll(s, "'", "''")
		for text != "" {
			line, rest, _ := strings.Cut(text, "\n")
			y.fold(line, cont, false)
			if n := len(rest) - len(strings.TrimLeft(rest, "\n")); len(line) < len(text) {
				// k line breaks are k+1 of them (the first reads back as
				// a space otherwise), the text going on indented.
				y.write(strings.Repeat("\n", n+1) + cont)
				rest = rest[n:]
			}
			text = rest
		}
		y.write("'")
	case styleDouble:
		var e strings.Builder
		for i := 0; i < len(s); {
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n == 1 {
				fmt.Fprintf(&e, `\x%02X`, s[i])
			} else {
				e.WriteString(yamlEscape(r))
			}
			i += n
		}
		y.write(`"`)
		y.fold(e.String(), cont, true)
		y.write(`"`)
	}
}

// fold writes text, replacing a space by a line break once the line has
// passed column 80: only a single space between other characters with
// single, any space but the first and last with double.
func (y *yamlWriter) fold(text, cont string, double bool) {
	start := 0
	for i := 0; i < len(text); i++ {
		if text[i] != ' ' || i == 0 || i == len(text)-1 {
			continue
		}
		if !double && (text[i-1] == ' ' || text[i+1] == ' ') {
			continue
		}
		if y.col+utf8.RuneCountInString(text[start:i]) > foldAt {
			y.write(text[start:i])
			y.write(cont)
			start = i + 1
		}
	}
	y.write(text[start:])
}

// yamlEscape is r inside a double-quoted string.
func yamlEscape(r rune) string {
	switch r {
	case 0:
		return `\0`
	case '\a':
		return `\a`
	case '\b':
		return `\b`
	case '\t':
		return `\t`
	case '\n':
		return `\n`
	case '\v':
		return `\v`
	case '\f':
		return `\f`
	case '\r':
		return `\r`
	case 0x1b:
		return `\e`
	case '"':
		return `\"`
	case '\\':
		return `\\`
	case 0x85:
		return `\N`
	case 0x2028:
		return `\L`
	case 0x2029:
		return `\P`
	}
	switch {
	case !unprintable(r):
		return string(r)
	case r <= 0xff:
		return fmt.Sprintf(`\x%02X`, r)
	case r <= 0xffff:
		return fmt.Sprintf(`\u%04X`, r)
	}
	return fmt.Sprintf(`\U%08X`, r)
}
