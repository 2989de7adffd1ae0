package xaes

import (
	"bufio"
	"bytes"
	"crypto/sha3"
	"encoding/hex"
	"flag"
	"os"
	"strconv"
	"strings"
	"testing"
)

var long = flag.Bool("long", false, "run the 1,000,000-iteration accumulated test")

// vector is one record of testdata/vectors.txt.
type vector map[string][]byte

// readVectors parses "Name: value" records separated by blank lines; values
// are hex or a quoted ASCII string. Unknown names fail the test.
func readVectors(t *testing.T, path string) []vector {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	known := map[string]bool{"comment": true, "K": true, "N": true, "L": true, "K1": true, "Kx": true, "Plaintext": true, "AAD": true, "Ciphertext": true}
	var out []vector
	cur := vector{}
	flush := func() {
		if len(cur) > 0 {
			out = append(out, cur)
			cur = vector{}
		}
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "":
			flush()
			continue
		case strings.HasPrefix(line, "#"):
			continue
		}
		name, val, ok := strings.Cut(line, ": ")
		if !ok || !known[name] {
			t.Fatalf("%s: bad line %q", path, line)
		}
		if strings.HasPrefix(val, `"`) {
			s, err := strconv.Unquote(val)
			if err != nil {
				t.Fatal(err)
			}
			cur[name] = []byte(s)
		} else if name == "comment" {
			cur[name] = []byte(val)
		} else {
			b, err := hex.DecodeString(val)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			cur[name] = b
		}
	}
	flush()
	if len(out) == 0 {
		t.Fatal("no vectors")
	}
	return out
}

func TestSpecVectors(t *testing.T) {
	for _, v := range readVectors(t, "testdata/vectors.txt") {
		t.Run(string(v["comment"]), func(t *testing.T) {
			x, err := New(v["K"])
			if err != nil {
				t.Fatal(err)
			}
			var l [16]byte
			x.block.Encrypt(l[:], l[:])
			if !bytes.Equal(l[:], v["L"]) {
				t.Errorf("L = %x, want %x", l, v["L"])
			}
			if !bytes.Equal(x.k1[:], v["K1"]) {
				t.Errorf("K1 = %x, want %x", x.k1, v["K1"])
			}
			var kx [KeySize]byte
			x.DeriveKey(&kx, v["N"][:PrefixSize])
			if !bytes.Equal(kx[:], v["Kx"]) {
				t.Errorf("Kx = %x, want %x", kx, v["Kx"])
			}
			ct := x.Seal(nil, v["N"], v["Plaintext"], v["AAD"])
			if !bytes.Equal(ct, v["Ciphertext"]) {
				t.Fatalf("ciphertext = %x, want %x", ct, v["Ciphertext"])
			}
			pt, err := x.Open(nil, v["N"], ct, v["AAD"])
			if err != nil || !bytes.Equal(pt, v["Plaintext"]) {
				t.Fatalf("open = %q, %v", pt, err)
			}
			ct[len(ct)-1] ^= 1
			if _, err := x.Open(nil, v["N"], ct, v["AAD"]); err == nil {
				t.Fatal("tampered tag opened")
			}
		})
	}
}

// TestAccumulated runs the spec's accumulated randomized test: a SHAKE-128
// stream supplies key, nonce, plaintext<0..255> and aad<0..255>; a second
// SHAKE-128 hashes every ciphertext.
func TestAccumulated(t *testing.T) {
	iterations, want := 10_000, "e6b9edf2df6cec60c8cbd864e2211b597fb69a529160cd040d56c0c210081939"
	if *long {
		iterations, want = 1_000_000, "2163ae1445985a30b60585ee67daa55674df06901b890593e824b8a7c885ab15"
	}
	s, d := sha3.NewSHAKE128(), sha3.NewSHAKE128()
	var first [16]byte
	sha3.NewSHAKE128().Read(first[:])
	if hex.EncodeToString(first[:]) != "7f9c2ba4e88f827d616045507605853e" {
		t.Fatalf("SHAKE-128 stream starts %x", first)
	}
	key, nonce, n := make([]byte, KeySize), make([]byte, NonceSize), make([]byte, 1)
	var ct, pt []byte
	for i := 0; i < iterations; i++ {
		s.Read(key)
		s.Read(nonce)
		s.Read(n)
		plaintext := make([]byte, n[0])
		s.Read(plaintext)
		s.Read(n)
		aad := make([]byte, n[0])
		s.Read(aad)
		x, err := New(key)
		if err != nil {
			t.Fatal(err)
		}
		ct = x.Seal(ct[:0], nonce, plaintext, aad)
		pt, err = x.Open(pt[:0], nonce, ct, aad)
		if err != nil || !bytes.Equal(pt, plaintext) {
			t.Fatalf("iteration %d: round trip failed: %v", i, err)
		}
		d.Write(ct)
	}
	got := make([]byte, 32)
	d.Read(got)
	if hex.EncodeToString(got) != want {
		t.Fatalf("after %d iterations: %x, want %s", iterations, got, want)
	}
}

// TestDeriveMatchesSeal checks that the cached-prefix path gives the same bytes.
func TestDeriveMatchesSeal(t *testing.T) {
	x, _ := New(bytes.Repeat([]byte{7}, KeySize))
	nonce := []byte("0123456789abcdefghijklmn")
	g, err := x.Derive(nonce[:PrefixSize])
	if err != nil {
		t.Fatal(err)
	}
	a := x.Seal(nil, nonce, []byte("hello"), []byte("ad"))
	b := g.Seal(nil, nonce[PrefixSize:], []byte("hello"), []byte("ad"))
	if !bytes.Equal(a, b) {
		t.Fatalf("%x != %x", a, b)
	}
}

func TestBadSizes(t *testing.T) {
	if _, err := New(make([]byte, 16)); err == nil {
		t.Fatal("16-byte key accepted")
	}
	x, _ := New(make([]byte, KeySize))
	if _, err := x.Open(nil, make([]byte, 12), make([]byte, 32), nil); err == nil {
		t.Fatal("12-byte nonce accepted")
	}
}

func BenchmarkSeal(b *testing.B) {
	x, _ := New(make([]byte, KeySize))
	nonce := make([]byte, NonceSize)
	for _, size := range []int{32, 4096} {
		pt := make([]byte, size)
		b.Run("size="+strconv.Itoa(size), func(b *testing.B) {
			b.SetBytes(int64(size))
			b.ReportAllocs()
			var dst []byte
			for b.Loop() {
				dst = x.Seal(dst[:0], nonce, pt, nil)
			}
		})
	}
}
