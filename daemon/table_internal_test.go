package daemon

import (
	"strings"
	"testing"

	"kmsd/wire/api"
)

// TestTableIsServed checks the operation table against what serves it:
// every operation the service or the server answers has a handler and
// no other does, and every audit parameter the table declares names a
// field of the request or response it reads.
func TestTableIsServed(t *testing.T) {
	ops := api.Ops()
	named := map[string]bool{}
	for _, op := range ops {
		named[op.Name] = true
		if served := handlers[op.Name] != nil; served != (op.Served != api.ByConnection) {
			t.Errorf("%s: served %v by a handler, but the table says %v", op.Name, served, op.Served)
		}
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
	for name := range handlers {
		if !named[name] {
			t.Errorf("a handler for %s, which the table does not have", name)
		}
	}
}
