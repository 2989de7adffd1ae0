package wire

import (
	"github.com/vmihailenco/msgpack/v5"
	"reflect"

	"kmsd/wire/api"

	"bytes"
	"io"
	"path/filepath"
	"testing"
)

func frameSeeds(f *testing.F) [][]byte {
	files, _ := filepath.Glob(filepath.Join("testdata", "frames", "*.hex"))
	if len(files) == 0 {
		f.Fatal("no seed frames in testdata/frames")
	}
	var seeds [][]byte
	t := &testing.T{}
	for _, p := range files {
		seeds = append(seeds, readFrameFile(t, p))
	}
	for _, b := range hostileBodies {
		seeds = append(seeds, append([]byte{0, 0, 0, byte(len(b))}, b...))
	}
	return seeds
}

// FuzzDecodeRequest: whatever decodes re-encodes to a frame that decodes
// to the same re-encoding (decode then encode is a fixed point).
func FuzzDecodeRequest(f *testing.F) {
	for _, s := range frameSeeds(f) {
		if len(s) > 4 {
			f.Add(s[4:])
		}
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := DecodeRequest(body)
		// What the head of a frame says agrees with the whole frame's
		// decoding, for a prefix of any length.
		if head, herr := RequestHead(body[:min(len(body), 256)]); req != nil && (herr != nil || head.ID != req.ID || head.Type != req.Type ||
			(head.Op != nil && req.Op != nil && head.Op != req.Op)) {
			t.Fatalf("RequestHead = %+v, %v; DecodeRequest = %+v", head, herr, req)
		}
		if err != nil {
			return
		}
		var again []byte
		if req.Type == TypeRequest {
			again, err = AppendRequest(nil, req.ID, req.Op.Name, req.Body)
		} else {
			again, err = AppendBatchRequest(nil, req.ID, req.Op.Name, req.Items())
		}
		if err != nil {
			t.Fatal(err)
		}
		req2, err := DecodeRequest(again[4:])
		if err != nil {
			t.Fatalf("re-encoded request rejected: %v", err)
		}
		var third []byte
		if req2.Type == TypeRequest {
			third, _ = AppendRequest(nil, req2.ID, req2.Op.Name, req2.Body)
		} else {
			third, _ = AppendBatchRequest(nil, req2.ID, req2.Op.Name, req2.Items())
		}
		if !bytes.Equal(again, third) {
			t.Fatalf("not a fixed point:\n%x\n%x", again, third)
		}
		// The reference implementation reads what the generated codec
		// writes: the same envelope, the same operation.
		var generic []any
		if err := msgpack.Unmarshal(again[4:], &generic); err != nil || len(generic) != 4 || generic[2] != req.Op.Name {
			t.Fatalf("vmihailenco/msgpack reads %v, %v", generic, err)
		}
	})
}

// FuzzDecodeResponse: responses never panic the client's decoder, in
// place or copying, and both read the same frames alike.
func FuzzDecodeResponse(f *testing.F) {
	for _, s := range frameSeeds(f) {
		if len(s) > 4 {
			f.Add(s[4:], uint8(0))
		}
	}
	all := api.Ops()
	f.Fuzz(func(t *testing.T, body []byte, op uint8) {
		spec := &all[int(op)%len(all)]
		opOf := func(uint64) (*api.OpSpec, bool) { return spec, true }
		a, err1 := DecodeResponse(body, opOf)
		b, err2 := DecodeResponseCopy(bytes.Clone(body), opOf)
		if (err1 == nil) != (err2 == nil) || (err1 == nil && !reflect.DeepEqual(a, b)) {
			t.Fatalf("in place: %+v, %v; copying: %+v, %v", a, err1, b, err2)
		}
	})
}

// splitReader returns its data in two reads, split at n.
type splitReader struct {
	parts [][]byte
}

func (s *splitReader) Read(p []byte) (int, error) {
	for len(s.parts) > 0 && len(s.parts[0]) == 0 {
		s.parts = s.parts[1:]
	}
	if len(s.parts) == 0 {
		return 0, io.EOF
	}
	n := copy(p, s.parts[0])
	s.parts[0] = s.parts[0][n:]
	return n, nil
}

// FuzzFrameSplit: a stream of frames split across two reads at any point
// reads back as the same frames as when it arrives whole.
func FuzzFrameSplit(f *testing.F) {
	for _, s := range frameSeeds(f) {
		f.Add(s, uint16(len(s)/2))
	}
	f.Fuzz(func(t *testing.T, stream []byte, at uint16) {
		cut := int(at) % (len(stream) + 1)
		whole := readAll(bytes.NewReader(stream))
		split := readAll(&splitReader{parts: [][]byte{stream[:cut:cut], stream[cut:]}})
		if len(whole) != len(split) {
			t.Fatalf("%d frames whole, %d split", len(whole), len(split))
		}
		for i := range whole {
			if !bytes.Equal(whole[i], split[i]) {
				t.Fatalf("frame %d differs", i)
			}
		}
	})
}

func readAll(r io.Reader) [][]byte {
	var out [][]byte
	for {
		b, err := ReadFrame(r, nil, 1<<16)
		if err != nil {
			return out
		}
		out = append(out, b)
	}
}
