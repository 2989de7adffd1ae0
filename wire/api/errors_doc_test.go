package api_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"maps"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"kmsd/internal/testkit"
)

// TestErrorCodesDocumented: docs/wire-protocol.md's table of error codes
// is exactly the codes the server's sources can return (every api.Code
// constant that daemon/, keystore/ or the protocol package names; not the
// client, nor awsjson, whose status table names codes it never makes), and
// its list of codes kmsd does not return is the rest of the constants.
func TestErrorCodesDocumented(t *testing.T) {
	consts := codeConstants(t)
	returned := map[string]bool{}
	for _, root := range []string{"../../daemon", "../../keystore", "../../wire"} {
		filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				t.Fatal(err)
			}
			if d.IsDir() && (strings.HasSuffix(path, "wire/client") || strings.HasSuffix(path, "wire/api") || strings.HasSuffix(path, "wire/awsjson") || d.Name() == "testdata") {
				return filepath.SkipDir
			}
			if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return nil
			}
			f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			ast.Inspect(f, func(n ast.Node) bool {
				if sel, ok := n.(*ast.SelectorExpr); ok {
					if x, ok := sel.X.(*ast.Ident); ok && x.Name == "api" && consts[sel.Sel.Name] != "" {
						returned[consts[sel.Sel.Name]] = true
					}
				}
				return true
			})
			return nil
		})
	}
	if len(returned) < 10 {
		t.Fatalf("found %d codes in the server's sources: the scan is broken", len(returned))
	}
	doc := testkit.DocSection(t, "../../docs/wire-protocol.md", "## Error codes")
	table := map[string]bool{}
	for _, m := range regexp.MustCompile("(?m)^\\| `([A-Za-z]+Exception)` \\|").FindAllStringSubmatch(doc, -1) {
		table[m[1]] = true
	}
	named := map[string]bool{}
	for _, m := range regexp.MustCompile("`([A-Za-z]+Exception)`").FindAllStringSubmatch(doc, -1) {
		named[m[1]] = true
	}
	for code := range returned {
		if !table[code] {
			t.Errorf("the server can return %s; docs/wire-protocol.md's table lacks it", code)
		}
	}
	for code := range table {
		if !returned[code] {
			t.Errorf("docs/wire-protocol.md's table has %s, which the server never returns", code)
		}
	}
	all := map[string]bool{}
	for _, v := range consts {
		all[v] = true
		if !named[v] {
			t.Errorf("%s is an api code that docs/wire-protocol.md does not name", v)
		}
	}
	for code := range named {
		if !all[code] {
			t.Errorf("docs/wire-protocol.md names %s, which is no api code", code)
		}
	}
}

// codeConstants maps the names of errors.go's Code constants to their
// values.
func codeConstants(t *testing.T) map[string]string {
	f, err := parser.ParseFile(token.NewFileSet(), "errors.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	consts := map[string]string{}
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, s := range g.Specs {
			vs := s.(*ast.ValueSpec)
			for i, n := range vs.Names {
				if lit, ok := vs.Values[i].(*ast.BasicLit); ok && strings.HasPrefix(n.Name, "Code") {
					consts[n.Name], _ = strconv.Unquote(lit.Value)
				}
			}
		}
	}
	if !slices.Contains(slices.Collect(maps.Values(consts)), "NotFoundException") {
		t.Fatalf("errors.go: no Code constants read: %v", consts)
	}
	return consts
}
