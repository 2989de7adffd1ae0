package daemon

import (
	"testing"

	"kmsd/wire/api"
)

// TestTableIsServed checks the operation table against what serves it:
// every operation the service or the server answers has a handler and
// no other does, and every batch operation a batch handler.
func TestTableIsServed(t *testing.T) {
	ops := api.Ops()
	named := map[string]bool{}
	for _, op := range ops {
		named[op.Name] = true
		if served := handlers[op.Name] != nil; served != (op.Served != api.ByConnection) {
			t.Errorf("%s: served %v by a handler, but the table says %v", op.Name, served, op.Served)
		}
		if batched := batchHandlers[op.Name] != nil; batched != op.Batch {
			t.Errorf("%s: served in batches %v, but the table says %v", op.Name, batched, op.Batch)
		}
	}
	for name := range handlers {
		if !named[name] {
			t.Errorf("a handler for %s, which the table does not have", name)
		}
	}
}
