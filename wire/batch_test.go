package wire

import (
	"bytes"
	"errors"
	"maps"
	"reflect"
	"testing"
	"unsafe"

	"kmsd/wire/api"
)

// TestItemFill: an answer whose blob is filled in place is the same bytes
// as the answer encoded with the blob in it; a fill that fails leaves the
// buffer as it was, wiped; a fill of another length is refused.
func TestItemFill(t *testing.T) {
	blob := bytes.Repeat([]byte{0xab}, 300) // a bin16, not a bin8
	outs := []api.Message{
		&api.EncryptOutput{CiphertextBlob: blob, KeyId: exKeyARN, EncryptionAlgorithm: api.AlgSymmetricDefault, KeyMaterialId: exMatID},
		&api.DecryptOutput{KeyId: exKeyARN, Plaintext: blob, EncryptionAlgorithm: api.AlgSymmetricDefault, KeyMaterialId: exMatID},
		&api.ReEncryptOutput{CiphertextBlob: blob, SourceKeyId: exKeyARN, KeyId: exKeyARN, DestinationKeyMaterialId: exMatID},
		&api.GenerateDataKeyOutput{CiphertextBlob: blob, Plaintext: []byte("data key"), KeyId: exKeyARN, KeyMaterialId: exMatID},
	}
	for _, out := range outs {
		want := AppendItem([]byte("prefix"), out, nil)
		got, err := AppendItemFill([]byte("prefix"), out, len(blob), func(dst []byte) ([]byte, error) { return append(dst, blob...), nil })
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%T: in place %x, want %x (%v)", out, got, want, err)
		}
	}
	fail := errors.New("key disabled")
	b := []byte("prefix")
	got, err := AppendItemFill(b, outs[0], 10, func(dst []byte) ([]byte, error) { return append(dst, "secret"...), fail })
	if !errors.Is(err, fail) || string(got) != "prefix" || bytes.Contains(got[:cap(got)], []byte("secret")) {
		t.Errorf("failed fill left %q (%v)", got[:cap(got)], err)
	}
	if _, err := AppendItemFill(nil, outs[0], 10, func(dst []byte) ([]byte, error) { return append(dst, 1, 2), nil }); !errors.Is(err, errFillLength) {
		t.Errorf("a fill of 2 bytes for 10: %v", err)
	}
	if _, err := AppendItemFill(nil, &api.KeyIDOutput{}, 1, nil); !errors.Is(err, errNoFill) {
		t.Errorf("a message without a fill field: %v", err)
	}
}

// TestBatchDecodedInPlace: a batch's items refer into the frame, and the
// key id and context they repeat are one string and one map: a batch of
// items alike costs no allocation per item.
func TestBatchDecodedInPlace(t *testing.T) {
	ec := map[string]string{"tenant": "a"}
	items := make([]api.Message, 200)
	for i := range items {
		items[i] = &api.EncryptInput{KeyId: "alias/app", Plaintext: []byte{byte(i), 1, 2, 3}, EncryptionContext: ec}
	}
	items[7] = &api.EncryptInput{KeyId: "alias/other", Plaintext: []byte{7}, EncryptionContext: map[string]string{"tenant": "b"}}
	frame, err := AppendBatchRequest(nil, 1, api.OpEncrypt, items)
	if err != nil {
		t.Fatal(err)
	}
	body := frame[FrameHeaderSize:]
	var req *Request
	allocs := testing.AllocsPerRun(10, func() {
		if req, err = DecodeRequest(body); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 20 {
		t.Errorf("decoding a batch of %d items took %v allocations", len(items), allocs)
	}
	in := req.Inputs.([]api.EncryptInput)
	if !reflect.DeepEqual(req.Items(), items) {
		t.Fatal("the items decoded in place differ from those sent")
	}
	p := unsafe.SliceData(in[3].Plaintext)
	if uintptr(unsafe.Pointer(p)) < uintptr(unsafe.Pointer(&body[0])) || uintptr(unsafe.Pointer(p)) >= uintptr(unsafe.Pointer(&body[len(body)-1])) {
		t.Error("a plaintext was copied, not left in the frame")
	}
	if unsafe.StringData(in[0].KeyId) != unsafe.StringData(in[199].KeyId) {
		t.Error("the key id the items repeat is not one string")
	}
	if reflect.ValueOf(in[0].EncryptionContext).UnsafePointer() != reflect.ValueOf(in[199].EncryptionContext).UnsafePointer() ||
		in[7].EncryptionContext["tenant"] != "b" {
		t.Error("the context the items repeat is not one map, or another was taken for it")
	}
}

// TestSharedContextEncodesAlike: items that share one context map encode
// exactly as items with a map each (the encoder copies the encoding of a
// map it has just encoded).
func TestSharedContextEncodesAlike(t *testing.T) {
	ec := map[string]string{"b": "2", "a": "1", "c": "3"}
	var shared, own []api.Message
	for i := range 5 {
		pt := []byte{byte(i)}
		shared = append(shared, &api.EncryptInput{KeyId: "k", Plaintext: pt, EncryptionContext: ec})
		own = append(own, &api.EncryptInput{KeyId: "k", Plaintext: pt, EncryptionContext: maps.Clone(ec)})
	}
	shared[3].(*api.EncryptInput).EncryptionContext = map[string]string{"z": "9"}
	own[3].(*api.EncryptInput).EncryptionContext = map[string]string{"z": "9"}
	a, err1 := AppendBatchRequest(nil, 1, api.OpEncrypt, shared)
	b, err2 := AppendBatchRequest(nil, 1, api.OpEncrypt, own)
	if err1 != nil || err2 != nil || !bytes.Equal(a, b) {
		t.Fatalf("a shared context encodes otherwise:\n%x\n%x", a, b)
	}
}

// TestBatchResponseCopied: DecodeResponse leaves a batch's byte values in
// the frame; DecodeResponseCopy copies them out, so that the frame can be
// read into again without changing what was decoded.
func TestBatchResponseCopied(t *testing.T) {
	outs := make([]api.Message, 20)
	for i := range outs {
		outs[i] = &api.EncryptOutput{CiphertextBlob: bytes.Repeat([]byte{byte(i + 1)}, 80), KeyId: exKeyARN}
	}
	head := AppendBatchResponseHead(nil, 9, len(outs))
	for _, o := range outs {
		head = AppendItem(head, o, nil)
	}
	frame := head
	if err := FinishBatchResponse(frame, 0, 0); err != nil {
		t.Fatal(err)
	}
	op := api.Lookup(api.OpEncrypt)
	opOf := func(id uint64) (*api.OpSpec, bool) { return op, id == 9 }
	for _, tc := range []struct {
		name   string
		decode func([]byte, func(uint64) (*api.OpSpec, bool)) (*Response, error)
		inside bool
	}{{"in place", DecodeResponse, true}, {"copied", DecodeResponseCopy, false}} {
		t.Run(tc.name, func(t *testing.T) {
			body := bytes.Clone(frame[FrameHeaderSize:])
			resp, err := tc.decode(body, opOf)
			if err != nil || len(resp.Items) != len(outs) {
				t.Fatalf("decode: %v", err)
			}
			clear(body) // the buffer read into again
			for i, it := range resp.Items {
				blob := it.Out.(*api.EncryptOutput).CiphertextBlob
				kept := bytes.Equal(blob, outs[i].(*api.EncryptOutput).CiphertextBlob)
				if kept == tc.inside {
					t.Fatalf("item %d: blob kept through the frame's wipe: %v, want %v", i, kept, !tc.inside)
				}
			}
		})
	}
}
