package main

import (
	"io"
	"math"
	"os"
	"sort"
	"strings"
	"unicode/utf8"

	"golang.org/x/sys/unix"
)

// --output table: the aws CLI's table, as its formatter (awscli/formatter.py,
// TableFormatter) and renderer (awscli/table.py, MultiTable) make it, ported
// line for line so that the two print the same: one section per object or
// list, titled by the operation or the field, scalar fields as columns in
// key order, a section of one row turned vertical when the table is wider
// than the terminal (80 columns when it is not one).

// tableSection is a titled block of rows.
type tableSection struct {
	title     string
	headers   []string
	rows      [][]string
	indent    int
	maxWidths []int
}

func (s *tableSection) update(row []string) {
	if s.maxWidths == nil {
		for _, e := range row {
			s.maxWidths = append(s.maxWidths, textLen(e))
		}
		return
	}
	for i, e := range row {
		s.maxWidths[i] = max(s.maxWidths[i], textLen(e))
	}
}

func (s *tableSection) addHeader(h []string) { s.update(h); s.headers = h }
func (s *tableSection) addRow(r []string)    { s.rows = append(s.rows, r); s.update(r) }

// columnWidths scales the columns' widths (each plus padding) to maxWidth.
func (s *tableSection) columnWidths(padding, maxWidth int) []int {
	var w []int
	total := 0
	for _, m := range s.maxWidths {
		w = append(w, m+padding)
		total += m + padding
	}
	if maxWidth < 0 || len(w) == 0 {
		return w
	}
	scale := float64(maxWidth) / float64(total)
	off := -maxWidth
	for i := range w {
		w[i] = int(math.RoundToEven(scale * float64(w[i])))
		off += w[i]
	}
	for off != 0 {
		for k := range w {
			i := k
			if off < 0 {
				i = len(w) - 1 - k
			}
			if off > 0 {
				w[i]--
				off--
			} else {
				w[i]++
				off++
			}
			if off == 0 {
				break
			}
		}
	}
	return w
}

func (s *tableSection) totalWidth() int {
	total := 0
	for _, w := range s.columnWidths(0, -1) {
		total += w + 4
	}
	total += 2 + 2*s.indent
	return max(textLen(s.title)+2+2*s.indent, total)
}

func textLen(s string) int { return utf8.RuneCountInString(s) }

// tableBuilder is TableFormatter: it turns a response into sections.
type tableBuilder struct{ sections []*tableSection }

func (t *tableBuilder) cur() *tableSection { return t.sections[len(t.sections)-1] }

func (t *tableBuilder) newSection(title string, indent int) {
	t.sections = append(t.sections, &tableSection{title: title, indent: indent})
}

func isEmpty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case map[string]any:
		return len(x) == 0
	case []any:
		return len(x) == 0
	case string:
		return x == ""
	case bool:
		return !x
	case float64:
		return x == 0
	}
	return false
}

func (t *tableBuilder) build(title string, hasTitle bool, v any, indent int) bool {
	if isEmpty(v) {
		return false
	}
	if hasTitle {
		t.newSection(title, indent)
	}
	switch x := v.(type) {
	case []any:
		if _, ok := x[0].(map[string]any); ok {
			t.fromList(x, indent, title)
		} else {
			for _, item := range x {
				if isScalar(item) {
					t.cur().addRow([]string{pyStr(item)})
				} else if l, ok := item.([]any); ok && allScalars(l) {
					var row []string
					for _, e := range l {
						row = append(row, pyStr(e))
					}
					t.cur().addRow(row)
				} else {
					t.build("", false, item, 0)
				}
			}
		}
	case map[string]any:
		t.fromMap(x, indent)
	}
	return true
}

func allScalars(l []any) bool {
	for _, e := range l {
		if !isScalar(e) {
			return false
		}
	}
	return true
}

func groupKeys(m map[string]any) (headers, more []string) {
	for k, v := range m {
		if isScalar(v) {
			headers = append(headers, k)
		} else {
			more = append(more, k)
		}
	}
	sort.Strings(headers)
	sort.Strings(more)
	return headers, more
}

func (t *tableBuilder) fromMap(m map[string]any, indent int) {
	headers, more := groupKeys(m)
	switch {
	case len(headers) == 1:
		t.cur().addRow([]string{headers[0], pyStr(m[headers[0]])})
	case len(headers) > 1:
		t.cur().addHeader(headers)
		var row []string
		for _, h := range headers {
			row = append(row, pyStr(m[h]))
		}
		t.cur().addRow(row)
	}
	for _, k := range more {
		t.build(k, true, m[k], indent+1)
	}
}

func (t *tableBuilder) fromList(l []any, indent int, title string) {
	hs, ms := map[string]bool{}, map[string]bool{}
	for _, e := range l {
		m, _ := e.(map[string]any)
		h, more := groupKeys(m)
		for _, k := range h {
			hs[k] = true
		}
		for _, k := range more {
			ms[k] = true
		}
	}
	headers, more := sortedKeys(hs), sortedKeys(ms)
	t.cur().addHeader(headers)
	for i, e := range l {
		m, _ := e.(map[string]any)
		if i > 0 && len(more) > 0 {
			t.newSection(title, indent)
			t.cur().addHeader(headers)
		}
		var row []string
		for _, h := range headers {
			if v, ok := m[h]; ok {
				row = append(row, pyStr(v))
			} else {
				row = append(row, "")
			}
		}
		t.cur().addRow(row)
		for _, k := range more {
			if v, ok := m[k]; ok {
				t.build(k, true, v, indent+1)
			}
		}
	}
}

func sortedKeys(m map[string]bool) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// pyStr is a scalar as Python's str() writes it.
func pyStr(v any) string {
	switch x := v.(type) {
	case bool:
		if x {
			return "True"
		}
		return "False"
	}
	return scalar(v)
}

// writeTable renders data (titled by the operation) as the aws CLI does.
func writeTable(w io.Writer, op string, data any) {
	t := &tableBuilder{}
	if !t.build(op, true, data, 0) {
		return
	}
	var b strings.Builder
	maxWidth := 0
	for _, s := range t.sections {
		maxWidth = max(maxWidth, s.totalWidth())
	}
	if maxWidth > terminalWidth() {
		for i, s := range t.sections {
			if len(s.rows) == 1 && len(s.headers) > 0 {
				v := &tableSection{title: s.title, indent: s.indent}
				for k, h := range s.headers {
					v.addRow([]string{h, s.rows[0][k]})
				}
				t.sections[i] = v
			}
		}
		maxWidth = 0
		for _, s := range t.sections {
			maxWidth = max(maxWidth, s.totalWidth())
		}
	}
	b.WriteString(strings.Repeat("-", maxWidth) + "\n")
	for _, s := range t.sections {
		renderSection(&b, s, maxWidth)
	}
	io.WriteString(w, b.String())
}

func renderSection(b *strings.Builder, s *tableSection, maxWidth int) {
	edge := strings.Repeat("|", s.indent)
	line := func(text string) { b.WriteString(edge + text + edge + "\n") }
	width := maxWidth - 2*s.indent
	if s.title != "" {
		line(centerText(s.title, width, "|", "|"))
		if len(s.headers) == 0 && len(s.rows) == 0 {
			line("+" + strings.Repeat("-", width-2) + "+")
		}
	}
	widths := s.columnWidths(4, width)
	if len(s.headers) > 0 {
		line(lineBreak(widths))
		var cur string
		for i, h := range s.headers {
			left := ""
			if i == 0 {
				left = "|"
			}
			cur += centerText(h, widths[i], left, "|")
		}
		line(cur)
	}
	if len(s.rows) == 0 || len(widths) == 0 {
		return
	}
	line(lineBreak(widths))
	for _, row := range s.rows {
		var cur string
		for i, e := range row {
			left := ""
			if i == 0 {
				left = "|"
			}
			cur += alignLeft(e, widths[i], left, "|")
		}
		line(cur)
	}
	line(lineBreak(widths))
}

func lineBreak(widths []int) string {
	var b strings.Builder
	for i, w := range widths {
		if i == 0 {
			b.WriteString("+" + strings.Repeat("-", max(w-2, 0)) + "+")
		} else {
			b.WriteString(strings.Repeat("-", max(w-1, 0)) + "+")
		}
	}
	return b.String()
}

func centerText(text string, length int, left, right string) string {
	start := length/2 - textLen(text)/2 - 1
	out := left + strings.Repeat(" ", max(start, 0)) + text
	sofar := textLen(left) + start + textLen(text)
	return out + strings.Repeat(" ", max(length-textLen(right)-sofar, 0)) + right
}

func alignLeft(text string, length int, left, right string) string {
	padding := 2
	if length-(textLen(text)+2+textLen(left)+textLen(right)) < 0 {
		padding = 0
	}
	sofar := textLen(left) + padding + textLen(text)
	return left + strings.Repeat(" ", padding) + text + strings.Repeat(" ", max(length-sofar-textLen(right), 0)) + right
}

// terminalWidth is stdout's width, or 80 when it is not a terminal.
func terminalWidth() int {
	if ws, err := unix.IoctlGetWinsize(int(os.Stdout.Fd()), unix.TIOCGWINSZ); err == nil && ws.Col > 0 {
		return int(ws.Col)
	}
	return 80
}
