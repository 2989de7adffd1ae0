// Command codecgen writes the msgpack codec of the API's messages from
// their Go declarations, so that each message is declared once: as a
// struct in package kmsd/wire/api.
//
// Run from kmsd/wire (go generate does): it reads api/*.go and writes
// api/messages_gen.go (the methods that make each struct an api.Message)
// and codec_gen.go (an encoder, a decoder and a size hint per struct).
// Its test fails when the files on disk are not what it would write.
//
// # What a struct may hold
//
// Fields of these types, each encoded under its Go name, in declaration
// order: string, []byte, bool, int32, int64, *int32 (optional
// numbers: nil is absent, a pointer to 0 is sent), time.Time and
// *time.Time (milliseconds since the epoch), map[string]string, []string,
// another struct of the package, and a slice of one. The tag
// wire:"max=N" bounds the elements of a slice or map in a decoded
// message; wire:"omitempty" leaves out a struct field whose fields are
// all zero. A struct whose doc holds the line //wire:skip is not a
// message.
package main

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"log"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("codecgen: ")
	msgs, err := parseDir("api")
	if err != nil {
		log.Fatal(err)
	}
	for path, src := range generate(msgs) {
		if err := os.WriteFile(path, src, 0o644); err != nil {
			log.Fatal(err)
		}
	}
}

// kind is how a field is encoded.
type kind int

const (
	kString kind = iota
	kBytes
	kBool
	kInt32
	kInt64
	kOptInt32
	kTime
	kOptTime
	kStrMap
	kStrList
	kStruct
	kStructList
)

// field is one field of a message.
type field struct {
	name      string
	kind      kind
	elem      string // the struct type of kStruct and kStructList
	max       int    // element bound of a slice or map; 0: none
	omitEmpty bool   // kStruct: leave out when all its fields are zero
	fill      bool   // kBytes: an encoder may append it in place (see writeFill)
}

// message is one struct of package api.
type message struct {
	name   string
	fields []field
}

// parseDir reads the structs of the package in dir, in name order.
func parseDir(dir string) ([]message, error) {
	fset := token.NewFileSet()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, err
	}
	var msgs []message
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") || strings.HasSuffix(path, "_gen.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ParseComments|parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.TYPE {
				continue
			}
			for _, spec := range gd.Specs {
				ts := spec.(*ast.TypeSpec)
				st, ok := ts.Type.(*ast.StructType)
				if !ok || !ts.Name.IsExported() || skipped(gd, ts) {
					continue
				}
				m := message{name: ts.Name.Name}
				for _, fl := range st.Fields.List {
					fd, err := parseField(fl)
					if err != nil {
						return nil, fmt.Errorf("%s: %s: %w", fset.Position(fl.Pos()), m.name, err)
					}
					for _, n := range fl.Names {
						fd.name = n.Name
						m.fields = append(m.fields, fd)
					}
				}
				fills := 0
				for _, f := range m.fields {
					if f.fill {
						fills++
					}
				}
				if fills > 1 {
					return nil, fmt.Errorf("%s has %d fill fields; at most one", m.name, fills)
				}
				if len(m.fields) > 64 {
					return nil, fmt.Errorf("%s has %d fields; the decoder tracks at most 64", m.name, len(m.fields))
				}
				msgs = append(msgs, m)
			}
		}
	}
	slices.SortFunc(msgs, func(a, b message) int { return strings.Compare(a.name, b.name) })
	known := map[string]bool{}
	for _, m := range msgs {
		known[m.name] = true
	}
	for _, m := range msgs {
		for _, f := range m.fields {
			if (f.kind == kStruct || f.kind == kStructList) && !known[f.elem] {
				return nil, fmt.Errorf("%s.%s: %s is not a struct of the package", m.name, f.name, f.elem)
			}
		}
	}
	return msgs, nil
}

// skipped reports whether a struct's doc holds the directive
// //wire:skip: it is exported but not a message.
func skipped(gd *ast.GenDecl, ts *ast.TypeSpec) bool {
	for _, doc := range []*ast.CommentGroup{gd.Doc, ts.Doc} {
		if doc == nil {
			continue
		}
		for _, c := range doc.List {
			if strings.HasPrefix(c.Text, "//wire:skip") {
				return true
			}
		}
	}
	return false
}

func parseField(fl *ast.Field) (field, error) {
	var f field
	if len(fl.Names) == 0 {
		return f, fmt.Errorf("embedded fields are not supported")
	}
	switch t := fl.Type.(type) {
	case *ast.Ident:
		switch t.Name {
		case "string":
			f.kind = kString
		case "bool":
			f.kind = kBool
		case "int32":
			f.kind = kInt32
		case "int64":
			f.kind = kInt64
		default:
			f.kind, f.elem = kStruct, t.Name
		}
	case *ast.StarExpr:
		switch typeString(t.X) {
		case "int32":
			f.kind = kOptInt32
		case "time.Time":
			f.kind = kOptTime
		default:
			return f, fmt.Errorf("unsupported pointer type *%s", typeString(t.X))
		}
	case *ast.SelectorExpr:
		if typeString(t) != "time.Time" {
			return f, fmt.Errorf("unsupported type %s", typeString(t))
		}
		f.kind = kTime
	case *ast.MapType:
		if typeString(t) != "map[string]string" {
			return f, fmt.Errorf("unsupported map %s", typeString(t))
		}
		f.kind = kStrMap
	case *ast.ArrayType:
		if t.Len != nil {
			return f, fmt.Errorf("arrays are not supported")
		}
		switch elem := typeString(t.Elt); elem {
		case "byte":
			f.kind = kBytes
		case "string":
			f.kind = kStrList
		default:
			if _, ok := t.Elt.(*ast.Ident); !ok {
				return f, fmt.Errorf("unsupported slice of %s", elem)
			}
			f.kind, f.elem = kStructList, elem
		}
	default:
		return f, fmt.Errorf("unsupported type %s", typeString(fl.Type))
	}
	if fl.Tag != nil {
		tag, _ := strconv.Unquote(fl.Tag.Value)
		for _, opt := range strings.Split(reflect.StructTag(tag).Get("wire"), ",") {
			switch {
			case opt == "":
			case opt == "omitempty" && f.kind == kStruct:
				f.omitEmpty = true
			case opt == "fill" && f.kind == kBytes:
				f.fill = true
			case strings.HasPrefix(opt, "max=") && (f.kind == kStrMap || f.kind == kStrList || f.kind == kStructList):
				n, err := strconv.Atoi(opt[4:])
				if err != nil || n < 1 {
					return f, fmt.Errorf("bad tag %q", opt)
				}
				f.max = n
			default:
				return f, fmt.Errorf("tag wire:%q does not apply to this field", opt)
			}
		}
	}
	return f, nil
}

func typeString(e ast.Expr) string {
	switch t := e.(type) {
	case *ast.Ident:
		return t.Name
	case *ast.SelectorExpr:
		return typeString(t.X) + "." + t.Sel.Name
	case *ast.StarExpr:
		return "*" + typeString(t.X)
	case *ast.ArrayType:
		return "[]" + typeString(t.Elt)
	case *ast.MapType:
		return "map[" + typeString(t.Key) + "]" + typeString(t.Value)
	}
	return fmt.Sprintf("%T", e)
}

// generate returns the files to write, by path relative to kmsd/wire.
func generate(msgs []message) map[string][]byte {
	const header = "// Code generated by go run ./internal/codecgen; DO NOT EDIT.\n\n"
	var a bytes.Buffer
	a.WriteString(header + "package api\n\n")
	for _, m := range msgs {
		fmt.Fprintf(&a, "func (*%s) message() {}\n", m.name)
	}
	var c bytes.Buffer
	c.WriteString(header + "package wire\n\nimport (\n\t\"unsafe\"\n\n\t\"kmsd/wire/api\"\n)\n\n")
	writeDispatch(&c, msgs)
	omitEmpty := map[string]bool{} // structs some field leaves out when empty
	for _, m := range msgs {
		for _, f := range m.fields {
			if f.omitEmpty {
				omitEmpty[f.elem] = true
			}
		}
	}
	writeFillDispatch(&c, msgs)
	for _, m := range msgs {
		writeEncoder(&c, m, omitEmpty[m.name])
		writeFill(&c, m)
		writeDecoder(&c, m)
		writeSizeHint(&c, m)
	}
	return map[string][]byte{
		filepath.Join("api", "messages_gen.go"): mustFormat(a.Bytes()),
		"codec_gen.go":                          mustFormat(c.Bytes()),
	}
}

func mustFormat(src []byte) []byte {
	out, err := format.Source(src)
	if err != nil {
		log.Fatalf("generated code does not parse: %v\n%s", err, src)
	}
	return out
}

func writeDispatch(w *bytes.Buffer, msgs []message) {
	w.WriteString("// appendMessage appends m as a msgpack map; e, if not nil, remembers\n// what messages encoded one after another repeat.\nfunc appendMessage(b []byte, m api.Message, e *encoder) []byte {\n\tswitch v := m.(type) {\n")
	for _, m := range msgs {
		fmt.Fprintf(w, "\tcase *api.%s:\n\t\treturn append%s(b, v, e)\n", m.name, m.name)
	}
	w.WriteString("\t}\n\tpanic(\"wire: not an api message\")\n}\n\n")
	w.WriteString("// decodeMessage reads a msgpack map into m.\nfunc decodeMessage(r *reader, m api.Message) error {\n\tswitch v := m.(type) {\n")
	for _, m := range msgs {
		fmt.Fprintf(w, "\tcase *api.%s:\n\t\treturn decode%s(r, v)\n", m.name, m.name)
	}
	w.WriteString("\t}\n\tpanic(\"wire: not an api message\")\n}\n\n")
	w.WriteString("// SizeHint guesses the encoded size of m from the lengths of its\n// variable parts, so that a frame can be allocated once.\nfunc SizeHint(m api.Message) int {\n\tswitch v := m.(type) {\n")
	for _, m := range msgs {
		fmt.Fprintf(w, "\tcase *api.%s:\n\t\treturn sizeHint%s(v)\n", m.name, m.name)
	}
	w.WriteString("\t}\n\treturn 0\n}\n\n")
}

// present is the Go condition under which a field is encoded.
func present(f field, v string) string {
	switch f.kind {
	case kString:
		return v + ` != ""`
	case kBool:
		return v
	case kInt32, kInt64:
		return v + " != 0"
	case kTime:
		return "!" + v + ".IsZero()"
	case kStruct:
		if f.omitEmpty {
			return "!isEmpty" + f.elem + "(&" + v + ")"
		}
		return "true"
	}
	return v + " != nil"
}

func writeEncoder(w *bytes.Buffer, m message, omitEmpty bool) {
	fmt.Fprintf(w, "func append%s(b []byte, m *api.%s, e *encoder) []byte {\n", m.name, m.name)
	w.WriteString("\tb, at := beginMap(b)\n\tn := 0\n")
	for _, f := range m.fields {
		v := "m." + f.name
		enc := fmt.Sprintf("b = append(b, %q...)\n%s\nn++", encodedName(f.name), encodeValue(f, v))
		if c := present(f, v); c != "true" {
			fmt.Fprintf(w, "\tif %s {\n%s\n}\n", c, enc)
		} else {
			w.WriteString(enc + "\n")
		}
	}
	w.WriteString("\treturn endMap(b, at, n)\n}\n\n")
	if omitEmpty {
		fmt.Fprintf(w, "func isEmpty%s(m *api.%s) bool {\n\treturn true", m.name, m.name)
		for _, f := range m.fields {
			fmt.Fprintf(w, " &&\n\t\t!(%s)", present(f, "m."+f.name))
		}
		w.WriteString("\n}\n\n")
	}
}

func fillField(m message) (field, bool) {
	for _, f := range m.fields {
		if f.fill {
			return f, true
		}
	}
	return field{}, false
}

func writeFillDispatch(w *bytes.Buffer, msgs []message) {
	w.WriteString("// appendFill appends m as a msgpack map whose fill field is n bytes that\n// fill appends in place.\nfunc appendFill(b []byte, m api.Message, n int, fill func([]byte) ([]byte, error)) ([]byte, error) {\n\tswitch v := m.(type) {\n")
	for _, m := range msgs {
		if _, ok := fillField(m); ok {
			fmt.Fprintf(w, "\tcase *api.%s:\n\t\treturn append%sFill(b, v, n, fill)\n", m.name, m.name)
		}
	}
	w.WriteString("\t}\n\treturn b, errNoFill\n}\n\n")
}

// writeFill writes the in-place encoder of a struct with a fill field:
// the fill field is written whatever its value in m, with n bytes.
func writeFill(w *bytes.Buffer, m message) {
	ff, ok := fillField(m)
	if !ok {
		return
	}
	fmt.Fprintf(w, "func append%sFill(b []byte, m *api.%s, n int, fill func([]byte) ([]byte, error)) ([]byte, error) {\n", m.name, m.name)
	w.WriteString("\tb, at := beginMap(b)\n\tk := 0\n")
	for _, f := range m.fields {
		v := "m." + f.name
		if f.name == ff.name {
			fmt.Fprintf(w, "\tb = append(b, %q...)\n\tb = appendBinHeader(b, n)\n\tvar err error\n\tif b, err = fillExactly(b, n, fill); err != nil {\n\t\treturn b, err\n\t}\n\tk++\n", encodedName(f.name))
			continue
		}
		value := strings.NewReplacer("e.appendStrMap(", "appendStrMap(", ", e)", ", nil)").Replace(encodeValue(f, v))
		enc := fmt.Sprintf("b = append(b, %q...)\n%s\nk++", encodedName(f.name), value)
		if c := present(f, v); c != "true" {
			fmt.Fprintf(w, "\tif %s {\n%s\n}\n", c, enc)
		} else {
			w.WriteString(enc + "\n")
		}
	}
	w.WriteString("\treturn endMap(b, at, k), nil\n}\n\n")
}

// encodedName is the msgpack str of a field name.
func encodedName(s string) string {
	switch n := len(s); {
	case n < 32:
		return string([]byte{byte(0xa0 | n)}) + s
	case n < 256:
		return string([]byte{0xd9, byte(n)}) + s
	}
	log.Fatalf("field name %q is too long", s)
	return ""
}

func encodeValue(f field, v string) string {
	switch f.kind {
	case kString:
		return "b = appendStr(b, " + v + ")"
	case kBytes:
		return "b = appendBin(b, " + v + ")"
	case kBool:
		return "b = appendBool(b, " + v + ")"
	case kInt32, kInt64:
		return "b = appendInt(b, int64(" + v + "))"
	case kOptInt32:
		return "b = appendInt(b, int64(*" + v + "))"
	case kTime:
		return "b = appendInt(b, " + v + ".UnixMilli())"
	case kOptTime:
		return "b = appendInt(b, " + v + ".UnixMilli())"
	case kStrMap:
		return "b = e.appendStrMap(b, " + v + ")"
	case kStrList:
		return "b = appendStrList(b, " + v + ")"
	case kStruct:
		return "b = append" + f.elem + "(b, &" + v + ", e)"
	case kStructList:
		return "b = appendArrayLen(b, len(" + v + "))\n\tfor i := range " + v + " {\n\t\tb = append" + f.elem + "(b, &" + v + "[i], e)\n\t}"
	}
	panic("unknown kind")
}

func writeDecoder(w *bytes.Buffer, m message) {
	fmt.Fprintf(w, "func decode%s(r *reader, m *api.%s) error {\n", m.name, m.name)
	w.WriteString("\tn, err := r.mapLen()\n\tif err != nil {\n\t\treturn err\n\t}\n")
	if len(m.fields) == 0 {
		w.WriteString("\tfor range n {\n\t\tif err := r.skipField(); err != nil {\n\t\t\treturn err\n\t\t}\n\t}\n\treturn nil\n}\n\n")
		return
	}
	w.WriteString("\tvar seen uint64\n\tfor range n {\n\t\tname, err := r.name()\n\t\tif err != nil {\n\t\t\treturn err\n\t\t}\n")
	w.WriteString("\t\tswitch string(name) {\n")
	for i, f := range m.fields {
		fmt.Fprintf(w, "\t\tcase %q:\n\t\t\tif err = r.field(&seen, %d); err == nil && !r.nextIsNil() {\n\t\t\t\terr = %s\n\t\t\t}\n",
			f.name, i, decodeValue(f, "m."+f.name))
	}
	w.WriteString("\t\tdefault:\n\t\t\terr = r.skip()\n\t\t}\n\t\tif err != nil {\n\t\t\treturn fieldError(string(name), err)\n\t\t}\n\t}\n\treturn nil\n}\n\n")
}

func decodeValue(f field, v string) string {
	switch f.kind {
	case kString:
		return "r.str(&" + v + ")"
	case kBytes:
		return "r.bin(&" + v + ")"
	case kBool:
		return "r.bool(&" + v + ")"
	case kInt32:
		return "r.int32(&" + v + ")"
	case kInt64:
		return "r.int64(&" + v + ")"
	case kOptInt32:
		return "r.optInt32(&" + v + ")"
	case kTime:
		return "r.time(&" + v + ")"
	case kOptTime:
		return "r.optTime(&" + v + ")"
	case kStrMap:
		return fmt.Sprintf("r.strMap(&%s, %d)", v, f.max)
	case kStrList:
		return fmt.Sprintf("r.strList(&%s, %d)", v, f.max)
	case kStruct:
		return "decode" + f.elem + "(r, &" + v + ")"
	case kStructList:
		return fmt.Sprintf("decodeList(r, &%s, %d, int(unsafe.Sizeof(api.%s{})), decode%s)", v, f.max, f.elem, f.elem)
	}
	panic("unknown kind")
}

// writeSizeHint writes a function that adds the lengths of a message's
// variable parts to a fixed allowance for its names and small fields.
func writeSizeHint(w *bytes.Buffer, m message) {
	fixed := 1
	var parts []string
	for _, f := range m.fields {
		fixed += len(f.name) + 2
		v := "m." + f.name
		switch f.kind {
		case kString, kBytes:
			fixed += 3
			parts = append(parts, "len("+v+")")
		case kStrMap:
			fixed += 3
			parts = append(parts, "32*len("+v+")")
		case kStrList:
			fixed += 3
			parts = append(parts, "48*len("+v+")")
		case kStruct:
			parts = append(parts, "sizeHint"+f.elem+"(&"+v+")")
		case kStructList:
			fixed += 3
			parts = append(parts, fmt.Sprintf("sizeHintList(%s, sizeHint%s)", v, f.elem))
		default:
			fixed += 9
		}
	}
	fmt.Fprintf(w, "func sizeHint%s(m *api.%s) int {\n", m.name, m.name)
	if len(parts) == 0 {
		w.WriteString("\t_ = m\n")
	}
	fmt.Fprintf(w, "\treturn %d", fixed)
	for _, p := range parts {
		w.WriteString(" + " + p)
	}
	w.WriteString("\n}\n\n")
}
