package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"kmsd/wire/api"
)

// namedElsewhere are the places outside the table (wire/api), the key
// service that serves the operations (daemon/kms) and generated code
// where an operation is named, and why: each names the one operation
// it is the handler or the caller of, never a list to keep in step.
var namedElsewhere = map[string][]string{
	// the connection answers Hello and Status itself: their handler
	"daemon/socket/dispatch.go": {"Hello", "Status"},
	"daemon/socket/read.go":     {"Hello"},
	"daemon/socket/ring.go":     {"Hello"}, // its answer carries the rings
	// the client opens a connection with Hello
	"wire/client/hello.go": {"Hello"},
	// the FUSE view's files: each is a call of one operation
	"fusefs/handle.go": {"Decrypt", "DescribeKey", "Encrypt", "GenerateDataKey", "GenerateMac", "GetKeyPolicy", "GetPublicKey", "Sign", "Verify"},
	"fusefs/tree.go":   {"DescribeKey"},
	// the Kubernetes KMS plugin: its Encrypt and Decrypt (and Status's
	// round trip) are kmsd's
	"daemon/k8skms/plugin.go": {"Decrypt", "Encrypt"},
	// benchmark names, as the suite's results name them
	"bench/report/plot.go":    {"Encrypt"},
	"bench/report/table.go":   {"Decrypt", "Encrypt", "GenerateDataKey", "ReEncrypt"},
	"bench/report/targets.go": {"Encrypt", "GenerateDataKey"},
}

// TestOperationsAreNamedOnce: outside the table, the service's handlers
// and generated code, no Go file names an operation (as api.OpX or as
// "X") but where namedElsewhere says why: every list of operations
// comes from the table.
func TestOperationsAreNamedOnce(t *testing.T) {
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	var alts []string
	for _, op := range api.Ops() {
		alts = append(alts, regexp.QuoteMeta(op.Name))
	}
	named := regexp.MustCompile(`\bOp(` + strings.Join(alts, "|") + `)\b|"(` + strings.Join(alts, "|") + `)"`)
	found := map[string][]string{}
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			if strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || rel == "wire/api" || rel == "daemon/kms" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") || strings.HasSuffix(path, "_gen.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range named.FindAllStringSubmatch(string(b), -1) {
			name := m[1] + m[2]
			if !slices.Contains(found[rel], name) {
				found[rel] = append(found[rel], name)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(found) == 0 {
		t.Fatal("no operation named anywhere: the search is broken")
	}
	for file, names := range found {
		for _, n := range names {
			if !slices.Contains(namedElsewhere[file], n) {
				t.Errorf("%s names the operation %s: declare what it needs in the operation table (wire/api/table.go) instead", file, n)
			}
		}
	}
	for file, names := range namedElsewhere {
		for _, n := range names {
			if !slices.Contains(found[file], n) {
				t.Errorf("namedElsewhere says %s names %s, which it no longer does: take it out", file, n)
			}
		}
	}
}
