package main

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"kmsd/wire/api"
)

// flagKind is how kmsctl takes a request field of one Go type on its
// command line, as the aws CLI takes a member of that shape: the flag's
// Go type and tags, what its help adds, and how its value becomes the
// field's (a function of params.go; "" is the value as it is).
type flagKind struct {
	goType, tags, hint, read string
	list                     bool // several values: --flag a b, or a JSON list
}

var flagKinds = map[string]flagKind{
	"string":            {goType: "string", read: "readText(%q, c.%s)"},
	"[]uint8":           {goType: "string", hint: "fileb://PATH (bytes), file://PATH (base64 text) or base64.", read: "readBlob(%q, c.%s)"},
	"map[string]string": {goType: "string", hint: "k=v,k2=v2 or JSON.", read: "readContext(%q, c.%s)"},
	"[]string":          {goType: "[]string", tags: ` sep:"none"`, hint: "Repeatable, or a JSON list.", read: "readList(%q, c.%s)", list: true},
	"[]api.Tag":         {goType: "[]string", tags: ` sep:"none"`, hint: "TagKey=k,TagValue=v (repeatable) or a JSON list.", read: "readTags(c.%[2]s)", list: true},
	"api.GrantConstraints": {goType: "string", hint: "EncryptionContextSubset={k=v,...} and/or EncryptionContextEquals={k=v,...}, or JSON.",
		read: "readConstraints(c.%[2]s)"},
	"*time.Time": {goType: "string", hint: "ISO 8601, or seconds since the epoch.", read: "readTime(%q, c.%s)"},
	"*int32":     {goType: "*int32"},
	"bool":       {goType: "bool", tags: ` negatable:""`},
}

// commandFlags writes kmsctl's commands whose flags are their request's
// fields (all but OpSpec.OwnCommand): for each, a type NAMECmd with a flag per
// field, named, typed and described as the aws CLI would (FlagName;
// flagKinds; the field's comment in wire/api), required as the table
// says, and a run that builds the request from them; a List operation's
// Marker and Limit are the AWS CLI's pagination instead. listFlags are
// the flags that take several values.
func commandFlags(ops []api.OpSpec) (string, error) {
	docs, err := fieldDocs()
	if err != nil {
		return "", err
	}
	var b bytes.Buffer
	b.WriteString("package main\n\nimport (\n\t\"kmsd/wire/api\"\n\t\"kmsd/wire/client\"\n)\n")
	lists := map[string]bool{}
	for _, op := range ops {
		if op.Command == api.NoCommand || op.OwnCommand || op.Internal {
			continue
		}
		name := op.Command
		if name == "" {
			name = op.Name
		}
		t := reflect.TypeOf(op.NewInput()).Elem()
		for _, r := range op.Required {
			if _, ok := t.FieldByName(r); !ok {
				return "", fmt.Errorf("%s: required %s is not a field of %s", op.Name, r, t.Name())
			}
		}
		listName, item, paged := paginated(op)
		typ := string(unicode.ToLower(rune(name[0]))) + name[1:] + "Cmd"
		fmt.Fprintf(&b, "\n// %s is the command of %s: api.%s's fields as flags.\ntype %s struct {\n", typ, op.Name, t.Name(), typ)
		var reads bytes.Buffer
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() || (paged && (f.Name == "Marker" || f.Name == "Limit")) {
				continue
			}
			k, ok := flagKinds[f.Type.String()]
			if !ok {
				return "", fmt.Errorf("%s: kmsctl has no flag for %s.%s of type %s", op.Name, t.Name(), f.Name, f.Type)
			}
			name := api.FlagName(f.Name)
			if k.list {
				lists["--"+name] = true
			}
			help := strings.TrimSpace(fieldHelp(f.Name, docs[t.Name()+"."+f.Name]) + " " + k.hint)
			tags := fmt.Sprintf("name:%q", name)
			if slices.Contains(op.Required, f.Name) {
				tags += ` required:""`
			}
			tags += k.tags
			if help != "" {
				tags += " help:" + strconv.Quote(help)
			}
			fmt.Fprintf(&b, "\t%s %s `%s`\n", f.Name, k.goType, tags)
			if k.read == "" {
				fmt.Fprintf(&reads, "\tin.%s = c.%s\n", f.Name, f.Name)
				continue
			}
			fmt.Fprintf(&reads, "\tif in.%s, err = %s; err != nil {\n\t\treturn usageError{err}\n\t}\n", f.Name, fmt.Sprintf(k.read, name, f.Name))
			if f.Name == op.WipeInput {
				fmt.Fprintf(&reads, "\tdefer clear(in.%s)\n", f.Name)
			}
		}
		if paged {
			b.WriteString("\tpaging\n")
		}
		b.WriteString("}\n\n")
		fmt.Fprintf(&b, "func (c *%s) run(e *env) error {\n\tin := &api.%s{}\n", typ, t.Name())
		if reads.Len() > 0 && strings.Contains(reads.String(), "err =") {
			b.WriteString("\tvar err error\n")
		}
		b.Write(reads.Bytes())
		if paged {
			fmt.Fprintf(&b, "\treturn list(e, c.paging, %q, func(cl *client.Client, m string, l *int32) *client.Paginator[%s] {\n", listName, item)
			fmt.Fprintf(&b, "\t\tnext := *in\n\t\tnext.Marker, next.Limit = m, l\n\t\treturn client.New%sPaginator(cl, &next)\n\t})\n}\n", op.Name)
		} else {
			fmt.Fprintf(&b, "\treturn call(e, api.Op%s, in)\n}\n", op.Name)
		}
	}
	b.WriteString("\n// listFlags take several values, as in the AWS CLI: --operations Encrypt\n// Decrypt (expandLists).\nvar listFlags = map[string]bool{\n")
	names := make([]string, 0, len(lists))
	for n := range lists {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		fmt.Fprintf(&b, "\t%q: true,\n", n)
	}
	b.WriteString("}\n")
	return b.String(), nil
}

// fieldDocs are the comments of wire/api's structure fields, by
// "Type.Field": what a flag's help says beside its kind's hint.
func fieldDocs() (map[string]string, error) {
	root, err := moduleRoot()
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(root, "wire", "api")
	names, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, err
	}
	fset := token.NewFileSet()
	var files []*ast.File
	for _, n := range names {
		if strings.HasSuffix(n, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, n, nil, parser.ParseComments)
		if err != nil {
			return nil, err
		}
		files = append(files, f)
	}
	docs := map[string]string{}
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			ts, ok := n.(*ast.TypeSpec)
			if !ok {
				return true
			}
			st, ok := ts.Type.(*ast.StructType)
			if !ok {
				return false
			}
			for _, fl := range st.Fields.List {
				text := strings.Join(strings.Fields(fl.Doc.Text()+" "+fl.Comment.Text()), " ")
				if text == "" {
					continue
				}
				if r := []rune(text); unicode.IsLower(r[0]) {
					r[0] = unicode.ToUpper(r[0])
					text = string(r)
				}
				if !strings.HasSuffix(text, ".") {
					text += "."
				}
				for _, n := range fl.Names {
					docs[ts.Name.Name+"."+n.Name] = text
				}
			}
			return false
		})
	}
	return docs, nil
}

// fieldHelp is a field's comment as its flag's help: without the field's
// name it may begin with ("Policy is the key policy" -> "The key
// policy").
func fieldHelp(field, doc string) string {
	for _, p := range []string{field + " is ", field + " are ", field + " "} {
		if rest, ok := strings.CutPrefix(doc, p); ok && rest != "" {
			r := []rune(rest)
			r[0] = unicode.ToUpper(r[0])
			return string(r)
		}
	}
	return doc
}
