package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"strings"

	"github.com/jmespath/go-jmespath"
	"golang.org/x/sys/unix"

	"kmsd/cmd/kmsctl/internal/render"
)

// show writes a response in the --output form (package render), after
// applying the JMESPath --query: JSON keeps the fields in AWS's service
// model order (a multi-select hash's in the query's), as the aws CLI
// version 2 does; a response with no fields prints nothing.
func show(w io.Writer, g *globals, v any) error {
	tree := v // a tree already (list), or a response to make one of
	if _, ok := v.(*object); !ok {
		tree = toTree(reflect.ValueOf(v))
	}
	if o, ok := tree.(*object); ok && len(o.Keys) == 0 && g.Query == "" {
		return nil
	}
	var b bytes.Buffer
	switch {
	case g.Query == "" && g.Output == "yaml":
		render.YAML(&b, tree)
	case g.Query == "" && g.Output == "json":
		render.JSON(&b, tree)
		b.WriteByte('\n')
	default:
		data := plain(tree)
		if g.Query != "" {
			var err error
			if data, err = jmespath.Search(g.Query, data); err != nil {
				return usageError{fmt.Errorf("--query: %w", err)}
			}
		}
		if err := showQueried(&b, g, tree, data); err != nil {
			return err
		}
	}
	_, err := w.Write(b.Bytes())
	return err
}

// showQueried writes data, a response (tree) or what --query made of it,
// in the --output form.
func showQueried(b *bytes.Buffer, g *globals, tree, data any) error {
	switch g.Output {
	case "table":
		if err := render.Table(b, g.op, render.Normalize(data), terminalWidth()); err != nil {
			return tableError{err}
		}
		return nil
	case "text":
		// As the aws CLI: a paginated list's NextToken comes last, as its
		// own row.
		m, ok := data.(map[string]any)
		next, hasNext := m["NextToken"].(string)
		if ok && hasNext && g.Query == "" {
			delete(m, "NextToken")
		}
		render.Text(b, render.Normalize(data))
		if ok && hasNext && g.Query == "" {
			b.WriteString("NEXTTOKEN\t" + next + "\n")
		}
		return nil
	}
	ranks := map[string]int{}
	// A multi-select hash's keys come in the query's order, as the aws CLI
	// keeps them; the response's fields in its order.
	for i, m := range multiSelectKey.FindAllStringSubmatch(g.Query, -1) {
		if _, ok := ranks[strings.Trim(m[1], `"`)]; !ok {
			ranks[strings.Trim(m[1], `"`)] = i - 1<<20
		}
	}
	keyRanks(tree, ranks)
	out := ordered(data, ranks)
	if g.Output == "yaml" {
		render.YAML(b, out)
		return nil
	}
	render.JSON(b, out)
	b.WriteByte('\n')
	return nil
}

// tableError is a table that cannot be drawn: the aws CLI's message,
// exit status 255.
type tableError struct{ error }

// terminalWidth is standard output's width, or 80 when it is not a
// terminal.
func terminalWidth() int {
	if ws, err := unix.IoctlGetWinsize(int(os.Stdout.Fd()), unix.TIOCGWINSZ); err == nil && ws.Col > 0 {
		return int(ws.Col)
	}
	return 80
}

// multiSelectKey finds the keys of a JMESPath multi-select hash ({Id: KeyId}).
var multiSelectKey = regexp.MustCompile(`[{,]\s*([A-Za-z_][A-Za-z0-9_]*|"[^"]*")\s*:`)

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
