package wire

import (
	"kmsd/wire/api"

	"bytes"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var updateFrames = flag.Bool("update-frames", false, "rewrite testdata/frames from the examples")

// frameFile is one file of testdata/frames: comment lines beginning with
// "#", then the frame in hex (whitespace ignored).
func readFrameFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var hx strings.Builder
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		hx.WriteString(strings.Join(strings.Fields(line), ""))
	}
	frame, err := hex.DecodeString(hx.String())
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return frame
}

func writeFrameFile(t *testing.T, name, comment string, frame []byte) {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n# %d bytes: 4-byte length, then the msgpack body.\n", comment, len(frame))
	fmt.Fprintf(&b, "%x\n", frame[:4])
	body := frame[4:]
	for len(body) > 0 {
		n := min(32, len(body))
		fmt.Fprintf(&b, "%x\n", body[:n])
		body = body[n:]
	}
	if err := os.WriteFile(filepath.Join("testdata", "frames", name), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// exampleFrames builds every example frame: name -> frame.
func exampleFrames(t *testing.T) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	ins, outs := exampleInputs(), exampleOutputs()
	for _, op := range api.Ops() {
		in, ok1 := ins[op.Name]
		o, ok2 := outs[op.Name]
		if !ok1 || !ok2 {
			t.Fatalf("no example for %s", op.Name)
		}
		var err error
		if out[op.Name+".request"], err = AppendRequest(nil, 7, op.Name, in); err != nil {
			t.Fatal(err)
		}
		if out[op.Name+".response"], err = AppendResponse(nil, 7, o, nil); err != nil {
			t.Fatal(err)
		}
	}
	var err error
	out["Encrypt.error-response"], err = AppendResponse(nil, 8, nil, &api.Error{Code: api.CodeNotFound, Message: "alias arn:kmsd:kms:local:000000000000:alias/missing is not found"})
	if err != nil {
		t.Fatal(err)
	}
	second := &api.EncryptInput{KeyId: exKeyID, Plaintext: []byte("second")}
	out["Encrypt.batch-request"], err = AppendBatchRequest(nil, 9, api.OpEncrypt, []api.Message{ins[api.OpEncrypt], second})
	if err != nil {
		t.Fatal(err)
	}
	out["Encrypt.batch-response"], err = AppendBatchResponse(nil, 9, []Result{{Out: outs[api.OpEncrypt]},
		{Err: &api.Error{Code: api.CodeDisabled, Message: exKeyARN + " is disabled"}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	out["Decrypt.batch-error-response"], err = AppendBatchResponse(nil, 10, nil, &api.Error{Code: api.CodeThrottling, Message: "the request queue is full; retry"})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestFrames decodes every frame in testdata/frames and re-encodes it: the
// bytes must be identical. A client written from docs/wire-protocol.md can
// check itself against the same files.
func TestFrames(t *testing.T) {
	frames := exampleFrames(t)
	if *updateFrames {
		for name, f := range frames {
			writeFrameFile(t, name+".hex", name, f)
		}
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "frames", "*.hex"))
	if len(files) != len(frames) {
		t.Fatalf("%d frame files, %d examples: run go test ./wire -run TestFrames -update-frames", len(files), len(frames))
	}
	for _, path := range files {
		name := strings.TrimSuffix(filepath.Base(path), ".hex")
		t.Run(name, func(t *testing.T) {
			frame := readFrameFile(t, path)
			if !bytes.Equal(frame, frames[name]) {
				t.Fatalf("testdata differs from the encoding of the example:\nfile %x\nnow  %x", frame, frames[name])
			}
			body, err := ReadFrame(bytes.NewReader(frame), nil, MaxFrame)
			if err != nil {
				t.Fatal(err)
			}
			opName, kind, _ := strings.Cut(name, ".")
			op := api.Lookup(opName)
			var again []byte
			switch kind {
			case "request", "batch-request":
				req, err := DecodeRequest(body)
				if err != nil {
					t.Fatal(err)
				}
				if kind == "request" {
					if !reflect.DeepEqual(req.Body, exampleInputs()[opName]) {
						t.Fatalf("decoded %+v", req.Body)
					}
					again, err = AppendRequest(nil, req.ID, req.Op.Name, req.Body)
				} else {
					again, err = AppendBatchRequest(nil, req.ID, req.Op.Name, req.Items())
				}
				if err != nil {
					t.Fatal(err)
				}
			default:
				resp, err := DecodeResponse(body, func(uint64) (*api.OpSpec, bool) { return op, true })
				if err != nil {
					t.Fatal(err)
				}
				switch resp.Type {
				case TypeResponse:
					if kind == "response" && !reflect.DeepEqual(resp.Body, exampleOutputs()[opName]) {
						t.Fatalf("decoded %+v", resp.Body)
					}
					again, err = AppendResponse(nil, resp.ID, resp.Body, resp.Err)
				default:
					again, err = AppendBatchResponse(nil, resp.ID, resp.Items, resp.Err)
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			if !bytes.Equal(again, frame) {
				t.Fatalf("re-encoding differs:\nwant %x\ngot  %x", frame, again)
			}
		})
	}
}
