package keystore

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
)

var updateFrozen = flag.Bool("update-frozen", false, "rewrite testdata/blobs-v1.txt (only when the format version changes)")

// frozenBlob is one record of testdata/blobs-v1.txt: a blob written by
// format version 1 that every later kmsd must open.
type frozenBlob struct {
	alg       Alg
	material  []byte
	keyID     KeyID
	version   uint32
	context   map[string]string
	plaintext []byte
	blob      []byte
}

func readFrozenBlobs(t *testing.T) []frozenBlob {
	t.Helper()
	f, err := os.Open("testdata/blobs-v1.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []frozenBlob
	var cur frozenBlob
	fields := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			if fields == 7 {
				out = append(out, cur)
			} else if fields != 0 {
				t.Fatalf("incomplete record before %q", line)
			}
			cur, fields = frozenBlob{}, 0
			continue
		}
		name, val, _ := strings.Cut(line, ": ")
		fields++
		switch name {
		case "alg":
			a, err := ParseAlg(val)
			if err != nil {
				t.Fatal(err)
			}
			cur.alg = a
		case "material":
			cur.material = mustHex(t, val)
		case "keyid":
			if cur.keyID, err = ParseKeyID(val); err != nil {
				t.Fatal(err)
			}
		case "version":
			v, err := strconv.ParseUint(val, 10, 32)
			if err != nil {
				t.Fatal(err)
			}
			cur.version = uint32(v)
		case "context":
			if err := json.Unmarshal([]byte(val), &cur.context); err != nil {
				t.Fatal(err)
			}
		case "plaintext":
			cur.plaintext = mustHex(t, val)
		case "blob":
			cur.blob = mustHex(t, val)
		default:
			t.Fatalf("unknown field %q", name)
		}
	}
	if fields == 7 {
		out = append(out, cur)
	}
	if len(out) == 0 {
		t.Fatal("no frozen blobs")
	}
	return out
}

func mustHex(t *testing.T, s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestFrozenBlobs opens blobs written by format version 1. If this fails,
// the change broke every ciphertext users hold: fix the change, not the file.
func TestFrozenBlobs(t *testing.T) {
	if *updateFrozen {
		writeFrozenBlobs(t)
	}
	for i, fb := range readFrozenBlobs(t) {
		m, err := NewMaterial(fb.version, fb.material)
		if err != nil {
			t.Fatal(err)
		}
		got, err := OpenBlob(nil, m, fb.keyID, fb.context, fb.blob)
		if err != nil || !bytes.Equal(got, fb.plaintext) {
			t.Errorf("record %d (%s): %q, %v", i, fb.alg, got, err)
		}
	}
}

func writeFrozenBlobs(t *testing.T) {
	var b strings.Builder
	b.WriteString("# Ciphertext blobs of format version 1 (docs/ciphertext-format.md).\n# Every later kmsd must open them. Fields: alg, material, keyid, version, context (JSON), plaintext, blob.\n")
	cases := []struct {
		alg Alg
		ec  map[string]string
		pt  string
	}{
		{AlgXAES256GCM, nil, "hello, kms"},
		{AlgXAES256GCM, map[string]string{"purpose": "frozen", "tenant": "ü"}, "with a context"},
		{AlgXChaCha20Poly1305, nil, "hello, kms"},
		{AlgXChaCha20Poly1305, map[string]string{"purpose": "frozen"}, strings.Repeat("4k", 2048)},
	}
	for i, c := range cases {
		m, key, err := GenerateMaterial(uint32(i + 1))
		if err != nil {
			t.Fatal(err)
		}
		id := NewKeyID()
		blob, err := SealBlob(nil, m, c.alg, id, c.ec, []byte(c.pt))
		if err != nil {
			t.Fatal(err)
		}
		ec, _ := json.Marshal(c.ec)
		fmt.Fprintf(&b, "\nalg: %s\nmaterial: %x\nkeyid: %s\nversion: %d\ncontext: %s\nplaintext: %x\nblob: %x\n",
			c.alg, key, id, i+1, ec, c.pt, blob)
	}
	if err := os.WriteFile("testdata/blobs-v1.txt", []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}
