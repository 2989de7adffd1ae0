package render

import (
	"io"
	"sort"
	"strings"
)

// Text writes a tree as the aws CLI's --output text does: one line per
// record, fields separated by tabs, scalars as [Word] writes them.
//
//   - A scalar is a line of its own.
//   - An object's scalar fields, in key order, make one line, led by the
//     object's name in capitals when it has one (the key it sits under);
//     then each field that holds an object or a list, in key order,
//     under its own name.
//   - A list of scalars is one line when it has no name (the whole
//     answer, or an item of a list without a name), and a line per item,
//     each led by the name, when it has one.
//   - A list of objects is a line per object, the columns being every
//     scalar key any of them has (sorted; a missing one is empty), each
//     object's nested fields following its line.
//   - Anything else in a list is written item by item, under the list's
//     name.
//
// Empty objects and lists write nothing.
func Text(w io.Writer, t any) {
	var b strings.Builder
	tw := textWriter{&b}
	switch v := t.(type) {
	case *Object:
		tw.object("", v)
	case []any:
		tw.list("", v)
	default:
		b.WriteString(Word(v) + "\n")
	}
	io.WriteString(w, b.String())
}

type textWriter struct{ b *strings.Builder }

// line writes one record: the name (in capitals) if any, then fields.
func (tw textWriter) line(name string, fields []string) {
	if name != "" {
		fields = append([]string{strings.ToUpper(name)}, fields...)
	}
	tw.b.WriteString(strings.Join(fields, "\t") + "\n")
}

func (tw textWriter) value(name string, v any) {
	switch x := v.(type) {
	case *Object:
		tw.object(name, x)
	case []any:
		tw.list(name, x)
	default:
		tw.line(name, []string{Word(x)})
	}
}

func (tw textWriter) object(name string, o *Object) {
	keys := o.sortedKeys()
	var fields []string
	for _, k := range keys {
		if isScalar(o.Vals[k]) {
			fields = append(fields, Word(o.Vals[k]))
		}
	}
	if len(fields) > 0 {
		tw.line(name, fields)
	}
	tw.nested(o, keys)
}

// nested writes the fields of o that hold objects or lists.
func (tw textWriter) nested(o *Object, keys []string) {
	for _, k := range keys {
		if !isScalar(o.Vals[k]) {
			tw.value(k, o.Vals[k])
		}
	}
}

func (tw textWriter) list(name string, l []any) {
	switch {
	case len(l) == 0:
	case all(l, isScalar) && name == "":
		fields := make([]string, len(l))
		for i, e := range l {
			fields[i] = Word(e)
		}
		tw.line("", fields)
	case all(l, isScalar):
		for _, e := range l {
			tw.line(name, []string{Word(e)})
		}
	case all(l, isObject):
		columns := scalarColumns(l)
		for _, e := range l {
			o := e.(*Object)
			if len(columns) > 0 {
				fields := make([]string, len(columns))
				for i, c := range columns {
					if v, ok := o.Vals[c]; ok {
						fields[i] = Word(v)
					}
				}
				tw.line(name, fields)
			}
			tw.nested(o, o.sortedKeys())
		}
	default:
		for _, e := range l {
			tw.value(name, e)
		}
	}
}

func isObject(v any) bool { _, ok := v.(*Object); return ok }

func all(l []any, f func(any) bool) bool {
	for _, e := range l {
		if !f(e) {
			return false
		}
	}
	return true
}

// scalarColumns are the keys holding scalars in any object of l, sorted.
func scalarColumns(l []any) []string {
	seen := map[string]bool{}
	var cols []string
	for _, e := range l {
		o := e.(*Object)
		for _, k := range o.Keys {
			if isScalar(o.Vals[k]) && !seen[k] {
				seen[k] = true
				cols = append(cols, k)
			}
		}
	}
	sort.Strings(cols)
	return cols
}
