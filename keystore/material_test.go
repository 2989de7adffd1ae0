package keystore

import (
	"bytes"
	"crypto/rand"
	"errors"
	"sync"
	"testing"
)

// TestMaterialCiphersOnFirstUse: a version's ciphers are made on its
// first use, by whichever of many concurrent callers comes first, and the
// copy of the material is cleared then; blobs sealed by one Material open
// with another made from the same bytes, in both suites; and a wiped
// Material refuses to work rather than work with a zero key.
func TestMaterialCiphersOnFirstUse(t *testing.T) {
	key := make([]byte, MaterialSize)
	rand.Read(key)
	id := NewKeyID()
	ec := map[string]string{"app": "lazy"}
	for _, alg := range []Alg{AlgXAES256GCM, AlgXChaCha20Poly1305} {
		m, err := NewMaterial(1, key)
		if err != nil {
			t.Fatal(err)
		}
		if m.c.Load() != nil || m.key != [MaterialSize]byte(key) {
			t.Fatalf("alg %v: a new Material has ciphers already, or lost its material", alg)
		}
		var wg sync.WaitGroup
		blobs := make([][]byte, 16)
		errs := make([]error, 16)
		for i := range blobs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				blobs[i], errs[i] = SealBlob(nil, m, alg, id, ec, []byte("secret"))
			}()
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatalf("alg %v: %v", alg, err)
		}
		if m.c.Load() == nil || m.key != [MaterialSize]byte{} {
			t.Fatalf("alg %v: after use the ciphers are not made, or the material copy is not cleared", alg)
		}
		other, err := NewMaterial(1, key)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range blobs {
			pt, err := OpenBlob(nil, other, id, ec, b)
			if err != nil || !bytes.Equal(pt, []byte("secret")) {
				t.Fatalf("alg %v: open with another Material of the same bytes: %q, %v", alg, pt, err)
			}
		}
		m.Wipe()
		if _, err := SealBlob(nil, m, alg, id, ec, []byte("x")); !errors.Is(err, errWiped) {
			t.Fatalf("alg %v: seal after Wipe: %v, want errWiped", alg, err)
		}
		// Wiped before any use: the material copy goes too, and nothing works.
		unused, _ := NewMaterial(2, key)
		unused.Wipe()
		if unused.key != [MaterialSize]byte{} {
			t.Fatal("Wipe left the material copy of an unused version")
		}
		if _, err := OpenBlob(nil, unused, id, ec, blobs[0]); err == nil {
			t.Fatalf("alg %v: a wiped, never used Material opened a blob", alg)
		}
	}
	d1, _ := NewMaterial(1, key)
	d2, _ := NewMaterial(1, key)
	if d1.Derive([12]byte([]byte("audit-mac-k1"))) != d2.Derive([12]byte([]byte("audit-mac-k1"))) {
		t.Fatal("Derive differs between two Materials of the same bytes")
	}
}
