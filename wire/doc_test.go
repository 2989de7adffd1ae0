package wire

import (
	"kmsd/wire/api"

	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestProtocolDocListsEveryField checks that docs/wire-protocol.md has a
// row for every operation and structure, with exactly the fields the code
// encodes, in order.
func TestProtocolDocListsEveryField(t *testing.T) {
	doc, err := os.ReadFile("../docs/wire-protocol.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range protocolRows() {
		if !strings.Contains(string(doc), row) {
			t.Errorf("docs/wire-protocol.md lacks or differs from:\n%s", row)
		}
	}
}

func protocolRows() []string {
	var rows []string
	for _, op := range api.Ops() {
		batch := ""
		if op.Batch {
			batch = " (batchable)"
		}
		rows = append(rows, fmt.Sprintf("| `%s`%s | %s | %s |", op.Name, batch, describeFields(op.NewInput()), describeFields(op.NewOutput())))
	}
	for _, m := range []api.Message{&api.KeyMetadata{}, &api.KeyListEntry{}, &api.AliasListEntry{}, &api.Tag{}, &api.RotationsListEntry{}, &api.GrantListEntry{}, &api.GrantConstraints{}, &api.KeyLastUsage{}, &api.UsageEntry{}, &api.AuditCheckpoint{}, &api.CPUFeatures{}, &api.Limits{}, &api.CustomKeyStoresListEntry{}, &api.AccessKey{}, &api.AccessKeyMetadata{}, &api.Error{}} {
		rows = append(rows, fmt.Sprintf("| `%s` | %s |", reflect.TypeOf(m).Elem().Name(), describeFields(m)))
	}
	return rows
}

// describeFields lists a message's fields as docs/wire-protocol.md
// does, from its struct: the one declaration the codec is generated from.
func describeFields(m api.Message) string {
	t := reflect.TypeOf(m).Elem()
	var parts []string
	for i := range t.NumField() {
		f := t.Field(i)
		parts = append(parts, fmt.Sprintf("`%s` %s", f.Name, fieldKind(f.Type)))
	}
	if len(parts) == 0 {
		return "(empty map)"
	}
	return strings.Join(parts, ", ")
}

func fieldKind(t reflect.Type) string {
	switch t {
	case reflect.TypeFor[string]():
		return "str"
	case reflect.TypeFor[[]byte]():
		return "bin"
	case reflect.TypeFor[int32]():
		return "int (32-bit)"
	case reflect.TypeFor[*int32]():
		return "int (32-bit, optional)"
	case reflect.TypeFor[int64]():
		return "int (64-bit)"
	case reflect.TypeFor[bool]():
		return "bool"
	case reflect.TypeFor[time.Time](), reflect.TypeFor[*time.Time]():
		return "time"
	case reflect.TypeFor[map[string]string]():
		return "map str→str"
	case reflect.TypeFor[[]string]():
		return "array of str"
	}
	switch t.Kind() {
	case reflect.Slice:
		return "array of " + t.Elem().Name()
	case reflect.Struct:
		return t.Name()
	}
	return "?"
}
