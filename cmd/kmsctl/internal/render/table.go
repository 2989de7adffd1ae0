package render

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
)

// ErrRagged is a table whose rows have different numbers of cells; its
// message is the aws CLI's.
var ErrRagged = errors.New("ragged table")

// Table writes a tree as the aws CLI's --output table does, for a
// terminal columns wide (80 when output is not a terminal), titled with
// the operation's name.
//
// The table is a column of boxes, each titled, nested boxes framed once
// more on each side ('|'):
//
//   - the answer's box is titled with title; an object's field that
//     holds an object or a non-empty list gets a box of its own, titled
//     with the field's name, below its parent's fields;
//   - an object's scalar fields are a row under a header of their names
//     (sorted), or, for one field alone, a row of its name and value;
//   - a list of objects is a row per object under a header of every
//     scalar key (sorted); when they hold objects or lists too, each
//     object is a box of its own, with the list's title, followed by
//     its nested boxes;
//   - a list of scalars is a row per item, and a list of lists of
//     scalars a row per list.
//
// Every box is as wide as the widest (its columns stretched in
// proportion to fill it). When that passes the terminal's width, boxes
// of one row under a header are drawn turned, a row per field. Header
// cells are centered, values left-aligned after two spaces. A null,
// false, zero, empty string or empty object or list as the answer
// writes nothing. Rows of one box with different numbers of cells are
// ErrRagged, and nothing is written.
func Table(w io.Writer, title string, t any, columns int) error {
	if isBlank(t) {
		return nil
	}
	var tb tableBuilder
	top := tb.open(title, 0)
	if err := tb.fill(top, t); err != nil {
		return err
	}
	out := tb.render(columns)
	_, err := io.WriteString(w, out)
	return err
}

// box is one titled part of a table.
type box struct {
	title string
	depth int      // how many frames it sits in
	head  []string // column names, if it has a header
	rows  [][]string
}

type tableBuilder struct{ boxes []*box }

func (tb *tableBuilder) open(title string, depth int) *box {
	b := &box{title: title, depth: depth}
	tb.boxes = append(tb.boxes, b)
	return b
}

// addRow adds a row to b, which must be as long as the rows before it.
func (b *box) addRow(r []string) error {
	if len(b.rows) > 0 && len(r) != len(b.rows[0]) {
		return fmt.Errorf("%w: Row should have %d elements, instead it has %d", ErrRagged, len(b.rows[0]), len(r))
	}
	b.rows = append(b.rows, r)
	return nil
}

// fill puts v into b, and opens the boxes v's nested values need.
func (tb *tableBuilder) fill(b *box, v any) error {
	switch x := v.(type) {
	case *Object:
		return tb.object(b, x)
	case []any:
		if len(x) > 0 && all(x, isObject) {
			return tb.objects(b, x)
		}
		for _, e := range x {
			switch y := e.(type) {
			case []any:
				if !all(y, isScalar) {
					// Its items join this box's rows, as the aws CLI's do.
					if err := tb.fill(b, y); err != nil {
						return err
					}
					continue
				}
				row := make([]string, len(y))
				for i, s := range y {
					row[i] = Word(s)
				}
				if err := b.addRow(row); err != nil {
					return err
				}
			case *Object:
				if err := tb.object(tb.open("", b.depth+1), y); err != nil {
					return err
				}
			default:
				if err := b.addRow([]string{Word(y)}); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// object fills b with o's scalar fields and opens a box for each other.
func (tb *tableBuilder) object(b *box, o *Object) error {
	keys := o.sortedKeys()
	var names, values []string
	for _, k := range keys {
		if isScalar(o.Vals[k]) {
			names = append(names, k)
			values = append(values, Word(o.Vals[k]))
		}
	}
	switch len(names) {
	case 0:
	case 1:
		if err := b.addRow([]string{names[0], values[0]}); err != nil {
			return err
		}
	default:
		b.head = names
		if err := b.addRow(values); err != nil {
			return err
		}
	}
	return tb.nested(b, o, keys)
}

// nested opens a box under b for each field of o holding a value that is
// not a scalar (nor empty).
func (tb *tableBuilder) nested(b *box, o *Object, keys []string) error {
	for _, k := range keys {
		if v := o.Vals[k]; !isScalar(v) && !isBlank(v) {
			if err := tb.fill(tb.open(k, b.depth+1), v); err != nil {
				return err
			}
		}
	}
	return nil
}

// objects fills b with a list of objects.
func (tb *tableBuilder) objects(b *box, l []any) error {
	columns := scalarColumns(l)
	deep := false
	for _, e := range l {
		o := e.(*Object)
		for _, k := range o.Keys {
			deep = deep || !isScalar(o.Vals[k])
		}
	}
	b.head = columns
	for i, e := range l {
		o := e.(*Object)
		if i > 0 && deep {
			b = tb.open(b.title, b.depth)
			b.head = columns
		}
		row := make([]string, len(columns))
		for c, k := range columns {
			if v, ok := o.Vals[k]; ok {
				row[c] = Word(v)
			}
		}
		if err := b.addRow(row); err != nil {
			return err
		}
		if err := tb.nested(b, o, o.sortedKeys()); err != nil {
			return err
		}
	}
	return nil
}

// natural is the width b asks for: its title's, or its columns' (each
// its widest cell and four spaces), with its frames.
func (b *box) natural() int {
	cols := 0
	for _, w := range b.cellWidths() {
		cols += w + 4
	}
	return max(Width(b.title), cols) + 2 + 2*b.depth
}

// cellWidths is the widest cell of each column.
func (b *box) cellWidths() []int {
	var ws []int
	for _, r := range append([][]string{b.head}, b.rows...) {
		for i, c := range r {
			if i == len(ws) {
				ws = append(ws, 0)
			}
			ws[i] = max(ws[i], Width(c))
		}
	}
	return ws
}

// turn draws a box of one row under a header as a row per field.
func (b *box) turn() {
	if len(b.head) == 0 || len(b.rows) != 1 {
		return
	}
	rows := make([][]string, len(b.head))
	for i, h := range b.head {
		rows[i] = []string{h, b.rows[0][i]}
	}
	b.head, b.rows = nil, rows
}

func (tb *tableBuilder) width() int {
	w := 0
	for _, b := range tb.boxes {
		w = max(w, b.natural())
	}
	return w
}

func (tb *tableBuilder) render(columns int) string {
	total := tb.width()
	if total > columns {
		for _, b := range tb.boxes {
			b.turn()
		}
		total = tb.width()
	}
	var s strings.Builder
	s.WriteString(strings.Repeat("-", total) + "\n")
	for _, b := range tb.boxes {
		b.render(&s, total)
	}
	return s.String()
}

// render draws b in a table total columns wide.
func (b *box) render(s *strings.Builder, total int) {
	frame := strings.Repeat("|", b.depth)
	line := func(text string) { s.WriteString(frame + text + frame + "\n") }
	inner := total - 2*b.depth
	if b.title != "" {
		line(center(b.title, inner, "|", "|"))
		if len(b.head) == 0 && len(b.rows) == 0 {
			line("+" + strings.Repeat("-", max(inner-2, 0)) + "+")
		}
	}
	widths := stretch(b.cellWidths(), inner)
	if len(widths) == 0 {
		return
	}
	rule := ruleLine(widths)
	if len(b.head) > 0 {
		line(rule)
		line(cells(b.head, widths, center))
	}
	if len(b.rows) > 0 {
		line(rule)
		for _, r := range b.rows {
			line(cells(r, widths, left))
		}
		line(rule)
	}
}

// stretch gives each column its widest cell and four spaces, then scales
// the columns to fill total, rounding each to the nearest (ties to even);
// what rounding leaves over is taken from the leftmost columns, what it
// leaves short given to the rightmost.
func stretch(cellWidths []int, total int) []int {
	if len(cellWidths) == 0 {
		return nil
	}
	natural := 0
	for _, w := range cellWidths {
		natural += w + 4
	}
	ws := make([]int, len(cellWidths))
	sum := 0
	for i, w := range cellWidths {
		ws[i] = int(math.RoundToEven(float64(w+4) * float64(total) / float64(natural)))
		sum += ws[i]
	}
	for i := 0; sum > total; i = (i + 1) % len(ws) {
		ws[i]--
		sum--
	}
	for i := len(ws) - 1; sum < total; i = (i + len(ws) - 1) % len(ws) {
		ws[i]++
		sum++
	}
	return ws
}

// ruleLine is the line above and below a box's header and rows.
func ruleLine(widths []int) string {
	var s strings.Builder
	for i, w := range widths {
		if i == 0 {
			s.WriteString("+" + strings.Repeat("-", max(w-2, 0)) + "+")
			continue
		}
		s.WriteString(strings.Repeat("-", max(w-1, 0)) + "+")
	}
	return s.String()
}

// cells is a row's cells, each as wide as its column, the first opening
// with '|', each closing with '|'.
func cells(row []string, widths []int, place func(text string, width int, open, shut string) string) string {
	var s strings.Builder
	for i, c := range row {
		open := ""
		if i == 0 {
			open = "|"
		}
		s.WriteString(place(c, widths[i], open, "|"))
	}
	return s.String()
}

// center is text centered in width columns between open and shut.
func center(text string, width int, open, shut string) string {
	tw := Width(text)
	lead := max(width/2-tw/2-1, 0)
	s := open + strings.Repeat(" ", lead) + text
	return s + strings.Repeat(" ", max(width-Width(shut)-(Width(open)+lead+tw), 0)) + shut
}

// left is text after two spaces (none if it does not fit) in width
// columns between open and shut.
func left(text string, width int, open, shut string) string {
	tw := Width(text)
	lead := 2
	if width-(tw+lead+Width(open)+Width(shut)) < 0 {
		lead = 0
	}
	s := open + strings.Repeat(" ", lead) + text
	return s + strings.Repeat(" ", max(width-Width(open)-lead-tw-Width(shut), 0)) + shut
}
