package kwp

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os"
	"testing"
)

type vector struct{ Name, KEK, Key, Wrapped string }

func vectors(t testing.TB) []vector {
	b, err := os.ReadFile("testdata/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var vs []vector
	if err := json.Unmarshal(b, &vs); err != nil {
		t.Fatal(err)
	}
	return vs
}

func unhex(t testing.TB, s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRFC5649: the RFC's examples wrap and unwrap to each other; any changed bit,
// another key or a cut ciphertext does not unwrap.
func TestRFC5649(t *testing.T) {
	for _, v := range vectors(t) {
		kek, key, wrapped := unhex(t, v.KEK), unhex(t, v.Key), unhex(t, v.Wrapped)
		got, err := Unwrap(kek, wrapped)
		if err != nil || !bytes.Equal(got, key) {
			t.Fatalf("%s: %x %v, want %x", v.Name, got, err, key)
		}
		if w, err := Wrap(kek, key); err != nil || !bytes.Equal(w, wrapped) {
			t.Errorf("%s: Wrap gave %x %v, want %x", v.Name, w, err, wrapped)
		}
		for i := range len(wrapped) * 8 {
			c := bytes.Clone(wrapped)
			c[i/8] ^= 1 << (i % 8)
			if _, err := Unwrap(kek, c); err != ErrUnwrap {
				t.Fatalf("%s: bit %d flipped unwrapped: %v", v.Name, i, err)
			}
		}
		other := bytes.Clone(kek)
		other[0] ^= 1
		if _, err := Unwrap(other, wrapped); err != ErrUnwrap {
			t.Errorf("%s: another KEK unwrapped", v.Name)
		}
		for _, n := range []int{0, 8, len(wrapped) - 8, len(wrapped) - 1} {
			if _, err := Unwrap(kek, wrapped[:n]); err == nil {
				t.Errorf("%s: %d bytes of it unwrapped", v.Name, n)
			}
		}
	}
}

// FuzzUnwrap: nothing panics, and what unwraps is no longer than the input.
func FuzzUnwrap(f *testing.F) {
	for _, v := range vectors(f) {
		f.Add(unhex(f, v.Wrapped))
	}
	kek := bytes.Repeat([]byte{7}, 32)
	f.Fuzz(func(t *testing.T, c []byte) {
		if k, err := Unwrap(kek, c); err == nil && len(k) > len(c) {
			t.Fatalf("unwrapped %d bytes from %d", len(k), len(c))
		}
	})
}

// TestRoundTrip: every key length from 1 to 64 bytes wraps and unwraps.
func TestRoundTrip(t *testing.T) {
	kek := bytes.Repeat([]byte{9}, 32)
	for n := 1; n <= 64; n++ {
		key := bytes.Repeat([]byte{byte(n)}, n)
		w, err := Wrap(kek, key)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := Unwrap(kek, w); err != nil || !bytes.Equal(got, key) {
			t.Fatalf("%d bytes: %x %v", n, got, err)
		}
	}
}
