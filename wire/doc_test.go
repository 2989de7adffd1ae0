package wire

import (
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
	for _, op := range Ops() {
		batch := ""
		if op.Batch {
			batch = " (batchable)"
		}
		rows = append(rows, fmt.Sprintf("| `%s`%s | %s | %s |", op.Name, batch, describeFields(op.NewInput()), describeFields(op.NewOutput())))
	}
	for _, m := range []Message{&KeyMetadata{}, &KeyListEntry{}, &AliasListEntry{}, &Tag{}, &RotationsListEntry{}, &GrantListEntry{}, &GrantConstraints{}, &KeyLastUsage{}, &UsageEntry{}, &AuditCheckpoint{}, &CPUFeatures{}, &Limits{}, &Error{}} {
		rows = append(rows, fmt.Sprintf("| `%s` | %s |", reflect.TypeOf(m).Elem().Name(), describeFields(m)))
	}
	return rows
}

func describeFields(m Message) string {
	l := fieldsOf(m)
	defer releaseFields(l)
	var parts []string
	for i := range l.n {
		parts = append(parts, fmt.Sprintf("`%s` %s", l.names[i], fieldKind(l.ptrs[i])))
	}
	if len(parts) == 0 {
		return "(empty map)"
	}
	return strings.Join(parts, ", ")
}

func fieldKind(p any) string {
	switch p.(type) {
	case *string:
		return "str"
	case *[]byte:
		return "bin"
	case *int32:
		return "int (32-bit)"
	case *int64:
		return "int (64-bit)"
	case *bool:
		return "bool"
	case *time.Time, **time.Time:
		return "time"
	case *map[string]string:
		return "map str→str"
	case *[]string:
		return "array of str"
	case list:
		return "array of " + reflect.ValueOf(p).Field(0).Elem().Type().Elem().Name()
	case Message:
		return reflect.TypeOf(p).Elem().Name()
	}
	return "?"
}
