package pipeline

import (
	"strings"
	"testing"

	"kmsd/wire/api"
)

// TestParamsNameFields checks that every audit parameter the operation
// table declares names a field of the request or response it reads.
func TestParamsNameFields(t *testing.T) {
	for _, op := range api.Ops() {
		for _, p := range op.Params {
			msg, path := op.NewInput(), p.From
			if rest, ok := strings.CutPrefix(path, "out."); ok {
				msg, path = op.NewOutput(), rest
			}
			if !field(msg, path).IsValid() {
				t.Errorf("%s: param %s reads %s, which %T has no field of", op.Name, p.Key, p.From, msg)
			}
		}
	}
}
