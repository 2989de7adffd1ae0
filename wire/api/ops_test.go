package api

import "testing"

// TestSafeToRepeat: crypto operations and reads may be sent again after a
// lost connection; nothing that changes a key may.
func TestSafeToRepeat(t *testing.T) {
	for name, want := range map[string]bool{
		OpEncrypt: true, OpGenerateRandom: true, OpListKeys: true, OpDescribeKey: true, OpGetKeyPolicy: true, OpStatus: true,
		OpCreateKey: false, OpRetireGrant: false, OpScheduleKeyDeletion: false, OpPutKeyPolicy: false, OpImportKeyMaterial: false,
	} {
		if got := Lookup(name).SafeToRepeat(); got != want {
			t.Errorf("%s: safe to repeat %v, want %v", name, got, want)
		}
	}
}
