package keystore

import (
	"bytes"
	"testing"
)

// FuzzOpenBlob feeds arbitrary bytes to the blob reader: it must never
// panic, and anything that opens must have been sealed by the key (only
// the seeds from SealBlob can).
func FuzzOpenBlob(f *testing.F) {
	m, err := NewMaterial(1, bytes.Repeat([]byte{1}, MaterialSize))
	if err != nil {
		f.Fatal(err)
	}
	id := KeyID{1, 2, 3}
	for _, alg := range []Alg{AlgXAES256GCM, AlgXChaCha20Poly1305} {
		b, _ := SealBlob(nil, m, alg, id, map[string]string{"k": "v"}, []byte("seed"))
		f.Add(b)
	}
	f.Add([]byte{})
	f.Add([]byte{BlobFormatV1, 0x03})
	f.Add(make([]byte, BlobOverhead))
	f.Fuzz(func(t *testing.T, blob []byte) {
		h, herr := ParseBlobHeader(blob)
		pt, err := OpenBlob(nil, m, id, map[string]string{"k": "v"}, blob)
		if err == nil {
			if herr != nil || h.KeyID != id || string(pt) != "seed" {
				t.Fatalf("opened %x to %q with header error %v", blob, pt, herr)
			}
		}
	})
}

// FuzzDecodeKeyRecord checks the record decoder never panics and that what
// it accepts re-encodes to a record it accepts again, unchanged.
func FuzzDecodeKeyRecord(f *testing.F) {
	var b Batch
	b.PutKey(&KeyRecord{KeyID: KeyID{9}, KeyState: "Enabled", Tags: []Tag{{"a", "b"}},
		Versions: []Version{{Version: 1, Sealed: []byte{1, 2}}}})
	f.Add(b.changes[0].Value)
	f.Add([]byte(`{"v":1,"KeyId":"00000000-0000-4000-8000-000000000000"}`))
	f.Add([]byte(`{"v":99}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		r, err := DecodeKeyRecord(in)
		if err != nil {
			return
		}
		out, err := encodeRecord(r)
		if err != nil {
			t.Fatal(err)
		}
		r2, err := DecodeKeyRecord(out)
		if err != nil {
			t.Fatalf("re-encoded record rejected: %v", err)
		}
		again, _ := encodeRecord(r2)
		if !bytes.Equal(out, again) {
			t.Fatalf("not stable:\n%s\n%s", out, again)
		}
	})
}

// FuzzParseKeyID checks that whatever parses prints back the same,
// ignoring case.
func FuzzParseKeyID(f *testing.F) {
	f.Add("1234abcd-12ab-34cd-56ef-1234567890ab")
	f.Add("1234ABCD-12AB-34CD-56EF-1234567890AB")
	f.Add("nope")
	f.Fuzz(func(t *testing.T, s string) {
		id, err := ParseKeyID(s)
		if err != nil {
			return
		}
		if !bytes.EqualFold([]byte(id.String()), []byte(s)) {
			t.Fatalf("%q -> %s", s, id)
		}
	})
}
