package keystore_test

import (
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"kmsd/internal/testkit"
	"kmsd/keystore"
)

// TestRecordsDocumented: docs/storage-format.md's example records name
// every field of the record types and no other, and show the version kmsd
// writes.
func TestRecordsDocumented(t *testing.T) {
	doc := testkit.DocSection(t, "../docs/storage-format.md", "## Records")
	blocks := regexp.MustCompile("(?s)```json\n(.*?)```").FindAllStringSubmatch(doc, -1)
	examples := map[string]string{}
	for _, b := range blocks {
		switch {
		case strings.Contains(b[1], `"GrantId"`):
			examples["grant"] = b[1]
		case strings.Contains(b[1], `"AliasName"`):
			examples["alias"] = b[1]
		case strings.Contains(b[1], `"Versions"`):
			examples["key"] = b[1]
		}
	}
	for name, typ := range map[string]reflect.Type{
		"key":   reflect.TypeFor[keystore.KeyRecord](),
		"grant": reflect.TypeFor[keystore.GrantRecord](),
		"alias": reflect.TypeFor[keystore.AliasRecord](),
	} {
		ex, ok := examples[name]
		if !ok {
			t.Errorf("docs/storage-format.md has no %s record", name)
			continue
		}
		var named []string
		// Field names are capitalized (but "v"); lower case names are an
		// example's map keys ({"tenant":"a"}).
		for _, m := range regexp.MustCompile(`"([A-Z][A-Za-z]*|v)":`).FindAllStringSubmatch(ex, -1) {
			named = append(named, m[1])
		}
		fields := jsonFields(typ)
		for _, f := range fields {
			if !slices.Contains(named, f) {
				t.Errorf("the %s record's field %s is not in docs/storage-format.md's example", name, f)
			}
		}
		for _, f := range named {
			if !slices.Contains(fields, f) {
				t.Errorf("docs/storage-format.md's %s record has %s, which the record lacks", name, f)
			}
		}
		vs := regexp.MustCompile(`\{"v":(\d+)`).FindAllStringSubmatch(ex, -1)
		if len(vs) == 0 {
			t.Errorf("docs/storage-format.md's %s record shows no version", name)
		} else if v, _ := strconv.Atoi(vs[len(vs)-1][1]); v != keystore.RecordVersion {
			t.Errorf("docs/storage-format.md's %s record is version %d; kmsd writes %d", name, v, keystore.RecordVersion)
		}
	}
}

// jsonFields are the JSON names of typ's fields and of the structs within
// it (in slices, maps and pointers too).
func jsonFields(typ reflect.Type) []string {
	var names []string
	var walk func(reflect.Type)
	walk = func(t reflect.Type) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || t.PkgPath() == "time" {
			return
		}
		for f := range t.Fields() {
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "" || name == "-" {
				continue
			}
			names = append(names, name)
			walk(f.Type)
		}
	}
	walk(typ)
	slices.Sort(names)
	return slices.Compact(names)
}
