package keystore

import (
	"bytes"
	"errors"
	"strconv"
	"testing"
)

func testMaterial(t testing.TB, v uint32) *Material {
	t.Helper()
	m, err := NewMaterial(v, bytes.Repeat([]byte{byte(v)}, MaterialSize))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestBlobRoundTripAndTamper(t *testing.T) {
	id := NewKeyID()
	ec := map[string]string{"purpose": "test", "tenant": "a"}
	for _, alg := range []Alg{AlgXAES256GCM, AlgXChaCha20Poly1305} {
		t.Run(alg.String(), func(t *testing.T) {
			m := testMaterial(t, 3)
			pt := []byte("attack at dawn")
			blob, err := SealBlob(nil, m, alg, id, ec, pt)
			if err != nil {
				t.Fatal(err)
			}
			if len(blob) != len(pt)+BlobOverhead {
				t.Fatalf("blob is %d bytes, want %d", len(blob), len(pt)+BlobOverhead)
			}
			h, err := ParseBlobHeader(blob)
			if err != nil || h.KeyID != id || h.KeyVersion != 3 || h.Alg != alg {
				t.Fatalf("header %+v, %v", h, err)
			}
			got, err := OpenBlob(nil, m, id, map[string]string{"tenant": "a", "purpose": "test"}, blob)
			if err != nil || !bytes.Equal(got, pt) {
				t.Fatalf("open: %q, %v", got, err)
			}
			// Every single flipped bit anywhere must fail authentication.
			for i := range blob {
				bad := bytes.Clone(blob)
				bad[i] ^= 0x01
				if _, err := OpenBlob(nil, m, id, ec, bad); !errors.Is(err, ErrBlob) {
					t.Fatalf("byte %d flipped: %v", i, err)
				}
			}
			for name, wrong := range map[string]map[string]string{
				"missing": nil, "extra": {"purpose": "test", "tenant": "a", "x": ""},
				"value": {"purpose": "test", "tenant": "b"}, "case": {"Purpose": "test", "tenant": "a"},
			} {
				if _, err := OpenBlob(nil, m, id, wrong, blob); !errors.Is(err, ErrBlob) {
					t.Errorf("%s context: %v", name, err)
				}
			}
			if _, err := OpenBlob(nil, testMaterial(t, 4), id, ec, blob); !errors.Is(err, ErrBlob) {
				t.Errorf("other version opened it: %v", err)
			}
			if _, err := OpenBlob(nil, m, NewKeyID(), ec, blob); !errors.Is(err, ErrBlob) {
				t.Errorf("other key id opened it: %v", err)
			}
			for _, n := range []int{0, 1, BlobOverhead - 1} {
				if _, err := OpenBlob(nil, m, id, ec, blob[:n]); !errors.Is(err, ErrBlob) {
					t.Errorf("truncated to %d: %v", n, err)
				}
			}
		})
	}
}

func TestXAESNoncesAreUnique(t *testing.T) {
	m := testMaterial(t, 1)
	id := NewKeyID()
	seen := map[[BlobNonceSize]byte]bool{}
	for i := 0; i < 1000; i++ {
		blob, err := SealBlob(nil, m, AlgXAES256GCM, id, nil, []byte("x"))
		if err != nil {
			t.Fatal(err)
		}
		n := [BlobNonceSize]byte(blob[22:46])
		if seen[n] {
			t.Fatalf("nonce repeated after %d messages", i)
		}
		seen[n] = true
	}
}

func TestEpochRollsOver(t *testing.T) {
	m := testMaterial(t, 1)
	id := NewKeyID()
	first, _ := SealBlob(nil, m, AlgXAES256GCM, id, nil, []byte("x"))
	m.epoch.Load().next.Store(EpochMessages)
	second, _ := SealBlob(nil, m, AlgXAES256GCM, id, nil, []byte("x"))
	if bytes.Equal(first[22:34], second[22:34]) {
		t.Fatal("prefix did not change after the epoch was used up")
	}
	for _, b := range [][]byte{first, second} {
		if _, err := OpenBlob(nil, m, id, nil, b); err != nil {
			t.Fatal(err)
		}
	}
}

func TestContextEncoding(t *testing.T) {
	enc := func(ec map[string]string) []byte {
		b, err := AppendContext(nil, ec)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	if !bytes.Equal(enc(nil), []byte{0, 0}) || !bytes.Equal(enc(map[string]string{}), []byte{0, 0}) {
		t.Fatal("empty context must encode as 0000")
	}
	want := []byte{0, 2, 0, 1, 'a', 0, 1, '1', 0, 1, 'b', 0, 0}
	if got := enc(map[string]string{"b": "", "a": "1"}); !bytes.Equal(got, want) {
		t.Fatalf("got %x want %x", got, want)
	}
	// local-kms's ambiguity: these two must differ.
	if bytes.Equal(enc(map[string]string{"ab": "c"}), enc(map[string]string{"a": "bc"})) {
		t.Fatal("encoding is ambiguous")
	}
	long := string(make([]byte, MaxContextValueLen+1))
	big := map[string]string{}
	for i := 0; i < MaxContextPairs+1; i++ {
		big[string(rune('A'+i))] = ""
	}
	huge := map[string]string{}
	for i := 0; i < 9; i++ {
		huge[string(rune('a'+i))] = string(bytes.Repeat([]byte("v"), MaxContextValueLen))
	}
	for name, ec := range map[string]map[string]string{
		"empty key": {"": "v"}, "long value": {"k": long}, "bad utf8": {"k": "\xff"},
		"too many": big, "too large": huge, "long key": {string(bytes.Repeat([]byte("k"), MaxContextKeyLen+1)): ""},
	} {
		if err := ValidateContext(ec); !errors.Is(err, ErrContext) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestKeyIDParse(t *testing.T) {
	id := NewKeyID()
	if id[6]>>4 != 4 || id[8]>>6 != 2 {
		t.Fatalf("not a v4 UUID: %s", id)
	}
	back, err := ParseKeyID(id.String())
	if err != nil || back != id {
		t.Fatalf("%s -> %s, %v", id, back, err)
	}
	for _, s := range []string{"", "1234", "1234abcd-12ab-34cd-56ef-1234567890a", "1234abcd-12ab-34cd-56ef-1234567890ag", "1234abcd+12ab-34cd-56ef-1234567890ab"} {
		if _, err := ParseKeyID(s); err == nil {
			t.Errorf("%q parsed", s)
		}
	}
}

func BenchmarkSealBlob(b *testing.B) {
	m := testMaterial(b, 1)
	id := NewKeyID()
	ec := map[string]string{"purpose": "bench"}
	for _, alg := range []Alg{AlgXAES256GCM, AlgXChaCha20Poly1305} {
		for _, size := range []int{32, 4096} {
			pt := make([]byte, size)
			b.Run(alg.String()+"/size="+strconv.Itoa(size), func(b *testing.B) {
				b.SetBytes(int64(size))
				b.ReportAllocs()
				var dst []byte
				for b.Loop() {
					dst, _ = SealBlob(dst[:0], m, alg, id, ec, pt)
				}
			})
		}
	}
}
