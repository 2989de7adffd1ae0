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

// TestDefaultWorkers: one worker per physical core kmsd may use, never
// more than the CPUs it may run on, whatever cpuid reports.
func TestDefaultWorkers(t *testing.T) {
	for _, tc := range []struct{ physical, usable, want int }{
		{254, 2, 2}, // a VM whose cpuid invents a topology
		{8, 16, 8},  // hyperthreads: a worker per core
		{16, 2, 2},  // pinned (taskset) or a cgroup quota of 2 CPUs
		{0, 4, 4},   // cpuid knows no count
		{1, 1, 1},
		{4, 0, 1},
	} {
		if got := defaultWorkers(tc.physical, tc.usable); got != tc.want {
			t.Errorf("defaultWorkers(%d, %d) = %d, want %d", tc.physical, tc.usable, got, tc.want)
		}
	}
}
