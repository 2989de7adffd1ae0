package wire

import (
	"kmsd/wire/api"

	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"
)

// crafted builds a request frame body around a hostile value placed
// where the body map would be.
func crafted(value []byte) []byte {
	b := []byte{0x94, 0x01, 0x07, 0xa7}
	b = append(b, "Encrypt"...)
	return append(b, value...)
}

func deep(n int) []byte {
	b := bytes.Repeat([]byte{0x91}, n) // fixarray of one, n deep
	return append(b, 0x00)
}

// hostileBodies are frame bodies that must be refused without allocating
// what they declare.
var hostileBodies = map[string][]byte{
	"bin32 of 0xFFFF0000": crafted([]byte{0x81, 0xa9, 'P', 'l', 'a', 'i', 'n', 't', 'e', 'x', 't', 0xc6, 0xff, 0xff, 0x00, 0x00}),
	"str32 of 0xFFFFFFFF": crafted([]byte{0x81, 0xa5, 'K', 'e', 'y', 'I', 'd', 0xdb, 0xff, 0xff, 0xff, 0xff}),
	"map32 of 0xFFFFFFFF": crafted([]byte{0xdf, 0xff, 0xff, 0xff, 0xff}),
	"array32 of 2^26":     crafted([]byte{0xdd, 0x04, 0x00, 0x00, 0x00}),
	"context map32 huge":  crafted([]byte{0x81, 0xb1, 'E', 'n', 'c', 'r', 'y', 'p', 't', 'i', 'o', 'n', 'C', 'o', 'n', 't', 'e', 'x', 't', 0xdf, 0x7f, 0xff, 0xff, 0xff}),
	"nested 1000 deep":    crafted(deep(1000)),
	"nested 9 deep":       crafted(deep(9)),
	"ext8":                crafted([]byte{0xc7, 0x01, 0x05, 0x00}),
	"fixext16":            crafted(append([]byte{0xd8, 0x01}, make([]byte, 16)...)),
	"never-used 0xc1":     crafted([]byte{0xc1}),
	"trailing bytes":      append(crafted([]byte{0x80}), 0x00),
	"truncated map":       crafted([]byte{0x82, 0xa5}),
	"not an array":        {0x81, 0x00, 0x00},
	"array of 3":          {0x93, 0x01, 0x07, 0xa1, 'x'},
	"id is a string":      {0x94, 0x01, 0xa1, 'x', 0xa1, 'x', 0x80},
	"type is a response":  {0x94, 0x02, 0x07, 0xc0, 0x80},
	"empty":               {},
}

// amplifying builds a request whose few bytes would decode to much more:
// VerifyAuditCheckpoints with n empty checkpoints (one byte each), and a
// batch of n empty Encrypt items.
func amplifying(n int) map[string][]byte {
	cps := []byte{0x94, 0x01, 0x07, 0xb6}
	cps = append(cps, "VerifyAuditCheckpoints"...)
	cps = append(cps, 0x81, 0xab)
	cps = append(cps, "Checkpoints"...)
	cps = append(cps, 0xdd, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	cps = append(cps, bytes.Repeat([]byte{0x80}, n)...)
	batch := []byte{0x94, 0x03, 0x07, 0xa7}
	batch = append(batch, "Encrypt"...)
	batch = binary.BigEndian.AppendUint16(append(batch, 0xdc), MaxBatchItems)
	batch = append(batch, bytes.Repeat([]byte{0x80}, MaxBatchItems)...)
	return map[string][]byte{"checkpoints": cps, "batch of empty items": batch}
}

// TestDecodingIsBounded: a frame decodes to at most a small multiple of
// its size, whatever its counts say (a 4 MiB frame of one-byte elements
// once decoded to 160 MiB).
func TestDecodingIsBounded(t *testing.T) {
	for name, body := range amplifying(MaxFrame - 64) {
		t.Run(name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			req, err := DecodeRequest(body)
			runtime.ReadMemStats(&after)
			if api.CodeOf(err) != api.CodeValidation || req == nil || req.ID != 7 {
				t.Fatalf("got %v, %v", req, err)
			}
			if grew := after.TotalAlloc - before.TotalAlloc; grew > uint64(decodeBudget(len(body))) {
				t.Fatalf("a %d-byte body allocated %d bytes before it was refused", len(body), grew)
			}
		})
	}
}

func TestHostileBodiesRefused(t *testing.T) {
	for name, body := range hostileBodies {
		t.Run(name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			req, err := DecodeRequest(body)
			runtime.ReadMemStats(&after)
			if err == nil {
				t.Fatalf("accepted: %+v", req)
			}
			if req != nil && !errors.Is(err, ErrProtocol) {
				var e *api.Error
				if !errors.As(err, &e) || e.Code == "" {
					t.Fatalf("error %v has no code", err)
				}
			}
			if grew := after.TotalAlloc - before.TotalAlloc; grew > 64<<10 {
				t.Fatalf("refusing a %d-byte body allocated %d bytes", len(body), grew)
			}
			if strings.Contains(err.Error(), "\x00") {
				t.Fatalf("error holds raw bytes: %q", err)
			}
		})
	}
}

func TestRequestErrorsAreAnswerable(t *testing.T) {
	frame := func(op string, body []byte) []byte {
		b := []byte{0x94, 0x01, 0x2a}
		b = append(b, byte(0xa0|len(op)))
		b = append(b, op...)
		return append(b, body...)
	}
	cases := []struct {
		name, code, msg string
		body            []byte
	}{
		{"unknown op", api.CodeUnknownOperation, "Nope", frame("Nope", []byte{0x80})},
		{"KeyId is an int", api.CodeValidation, "field KeyId", frame("Encrypt", []byte{0x81, 0xa5, 'K', 'e', 'y', 'I', 'd', 0x05})},
		{"field twice", api.CodeValidation, "appears twice", frame("Encrypt", []byte{0x82, 0xa5, 'K', 'e', 'y', 'I', 'd', 0xa1, 'a', 0xa5, 'K', 'e', 'y', 'I', 'd', 0xa1, 'b'})},
		{"context key twice", api.CodeValidation, "appears twice", frame("Encrypt", append([]byte{0x81, 0xb1}, append([]byte("EncryptionContext"), 0x82, 0xa1, 'k', 0xa1, 'v', 0xa1, 'k', 0xa1, 'w')...))},
		{"invalid UTF-8", api.CodeValidation, "UTF-8", frame("Encrypt", []byte{0x81, 0xa5, 'K', 'e', 'y', 'I', 'd', 0xa1, 0xff})},
		{"int32 overflow", api.CodeValidation, "out of range", frame("GenerateRandom", append([]byte{0x81, 0xad}, append([]byte("NumberOfBytes"), 0xcf, 0, 0, 0, 1, 0, 0, 0, 0)...))},
		{"body not a map", api.CodeValidation, "want a map", frame("Encrypt", []byte{0x05})},
		{"op not a string", api.CodeValidation, "not a string", []byte{0x94, 0x01, 0x2a, 0x05, 0x80}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, err := DecodeRequest(c.body)
			var e *api.Error
			if req == nil || req.ID != 42 || !errors.As(err, &e) || e.Code != c.code || !strings.Contains(e.Message, c.msg) {
				t.Fatalf("got %+v, %v", req, err)
			}
		})
	}
	// Batches: not for management operations, 1..MaxBatchItems items.
	for name, ops := range map[string]func() ([]byte, error){
		"non-batch op": func() ([]byte, error) {
			return AppendBatchRequest(nil, 3, api.OpCreateKey, []api.Message{&api.CreateKeyInput{}})
		},
		"empty batch": func() ([]byte, error) { return AppendBatchRequest(nil, 3, api.OpEncrypt, nil) },
		"too many": func() ([]byte, error) {
			items := make([]api.Message, MaxBatchItems+1)
			for i := range items {
				items[i] = &api.EncryptInput{}
			}
			return AppendBatchRequest(nil, 3, api.OpEncrypt, items)
		},
	} {
		f, err := ops()
		if err != nil {
			t.Fatal(err)
		}
		req, err := DecodeRequest(f[4:])
		if req == nil || api.CodeOf(err) != api.CodeValidation {
			t.Errorf("%s: %+v %v", name, req, err)
		}
	}
}

func TestUnknownFieldsAndNilsAreTolerated(t *testing.T) {
	// {"Future": [1, {"x": 2}], "KeyId": nil, "Plaintext": h"01"}
	body := []byte{0x94, 0x01, 0x01, 0xa7, 'E', 'n', 'c', 'r', 'y', 'p', 't', 0x83,
		0xa6, 'F', 'u', 't', 'u', 'r', 'e', 0x92, 0x01, 0x81, 0xa1, 'x', 0x02,
		0xa5, 'K', 'e', 'y', 'I', 'd', 0xc0,
		0xa9, 'P', 'l', 'a', 'i', 'n', 't', 'e', 'x', 't', 0xc4, 0x01, 0x01}
	req, err := DecodeRequest(body)
	if err != nil {
		t.Fatal(err)
	}
	in := req.Body.(*api.EncryptInput)
	if in.KeyId != "" || !bytes.Equal(in.Plaintext, []byte{1}) {
		t.Fatalf("%+v", in)
	}
}

func TestReadFrameLimits(t *testing.T) {
	// The bytes allocated per read of a frame announcing 4 GiB, averaged
	// over many reads (other goroutines of the test binary allocate too).
	const reads = 200
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	var err error
	for range reads {
		_, err = ReadFrame(bytes.NewReader([]byte{0xff, 0xff, 0xff, 0xff, 1, 2, 3}), nil, MaxFrame)
	}
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("0xFFFFFFFF length: %v", err)
	}
	if per := (after.TotalAlloc - before.TotalAlloc) / reads; per > 4096 {
		t.Fatalf("a too-large length prefix allocated %d bytes a read", per)
	}
	if _, err := ReadFrame(bytes.NewReader([]byte{0, 0, 0, 0}), nil, MaxFrame); err == nil {
		t.Fatal("empty frame accepted")
	}
	big := binary.BigEndian.AppendUint32(nil, 100)
	if _, err := ReadFrame(bytes.NewReader(append(big, 1, 2, 3)), nil, MaxFrame); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("truncated body: %v", err)
	}
	buf := make([]byte, 0, 64)
	got, err := ReadFrame(bytes.NewReader([]byte{0, 0, 0, 2, 9, 9}), buf, MaxFrame)
	if err != nil || !bytes.Equal(got, []byte{9, 9}) || &got[0] != &buf[:1][0] {
		t.Fatalf("reuse: %x %v", got, err)
	}
}
