package fusefs

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"strings"
	"sync"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"kmsd/wire/api"
)

// handle is one open file: the caller bound at open, the input written so
// far, and, once the first read ran the operation, the result and how much
// of it was read. Reads and writes may come from different processes that
// share the descriptor; they all act as the opener.
type handle struct {
	t    *tree
	s    Session
	kind fileKind
	ref  string
	ec   map[string]string
	alg  string // sign, verify and mac: the algorithm, "" for the key's first

	mu    sync.Mutex
	in    []byte
	out   []byte
	pos   int
	ran   bool
	errno syscall.Errno // the result, when the operation failed
}

var (
	_ fs.FileWriter   = (*handle)(nil)
	_ fs.FileReader   = (*handle)(nil)
	_ fs.FileReleaser = (*handle)(nil)
	_ fs.FileFlusher  = (*handle)(nil)
)

// Flush answers ENOSYS: a handle has nothing to flush at close, and the
// kernel, told so once, stops sending FLUSH for the whole mount (the close
// still succeeds), which saves a round trip through kmsd per close.
func (h *handle) Flush(ctx context.Context) syscall.Errno { return syscall.ENOSYS }

// Write appends to the input. Past the operation's limit the handle fails
// with EINVAL (and every later read and write does too); after the result
// exists, writing is EBUSY.
func (h *handle) Write(ctx context.Context, data []byte, off int64) (uint32, syscall.Errno) {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case h.ran && h.errno != 0:
		return 0, h.errno
	case h.ran:
		return 0, syscall.EBUSY
	case !h.kind.takesInput():
		return 0, syscall.EBADF
	case len(h.in)+len(data) > h.kind.maxInput():
		h.t.refuse(ctx, syscall.EINVAL, "path", h.kind.name(), "key", h.ref,
			"err", "input longer than the operation takes", "limit", h.kind.maxInput())
		clear(h.in)
		h.in, h.ran, h.errno = nil, true, syscall.EINVAL
		return 0, syscall.EINVAL
	}
	if h.in == nil {
		h.in = make([]byte, 0, min(h.kind.maxInput(), max(len(data), 512)))
	}
	h.in = append(h.in, data...)
	return uint32(len(data)), 0
}

// Read runs the operation on the first call, then returns the result from
// the handle's own cursor; at its end, reads return nothing (EOF).
func (h *handle) Read(ctx context.Context, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.ran {
		h.ran = true
		h.out, h.errno = h.run(ctx)
		clear(h.in)
		h.in = nil
	}
	if h.errno != 0 {
		return nil, h.errno
	}
	n := copy(dest, h.out[h.pos:])
	h.pos += n
	return fuse.ReadResultData(dest[:n]), 0
}

// Release zeroes what the handle held. It has no caller (the kernel sends
// it after the last close), and needs none.
func (h *handle) Release(ctx context.Context) syscall.Errno {
	h.mu.Lock()
	defer h.mu.Unlock()
	clear(h.in)
	clear(h.out)
	h.in, h.out = nil, nil
	return 0
}

// run performs the handle's operation as its session.
func (h *handle) run(ctx context.Context) ([]byte, syscall.Errno) {
	what := h.ref + "/" + h.kind.name()
	switch h.kind {
	case kindEncrypt, kindEncryptB64:
		o, errno := h.t.call(ctx, h.s, api.OpEncrypt, what,
			&api.EncryptInput{KeyId: h.ref, Plaintext: h.in, EncryptionContext: h.ec})
		if errno != 0 {
			return nil, errno
		}
		blob := o.(*api.EncryptOutput).CiphertextBlob
		if h.kind == kindEncrypt {
			return blob, 0
		}
		return append(base64.StdEncoding.AppendEncode(nil, blob), '\n'), 0
	case kindDecrypt, kindDecryptB64:
		blob := h.in
		if h.kind == kindDecryptB64 {
			var err error
			blob, err = base64.StdEncoding.AppendDecode(nil, stripSpace(h.in))
			if err != nil {
				h.t.refuse(ctx, syscall.EINVAL, "path", what, "err", "input is not base64")
				return nil, syscall.EINVAL
			}
		}
		o, errno := h.t.call(ctx, h.s, api.OpDecrypt, what,
			&api.DecryptInput{KeyId: h.ref, CiphertextBlob: blob, EncryptionContext: h.ec})
		if errno != 0 {
			return nil, errno
		}
		return o.(*api.DecryptOutput).Plaintext, 0
	case kindDataKey:
		o, errno := h.t.call(ctx, h.s, api.OpGenerateDataKey, what,
			&api.GenerateDataKeyInput{KeyId: h.ref, KeySpec: "AES_256", EncryptionContext: h.ec})
		if errno != 0 {
			return nil, errno
		}
		dk := o.(*api.GenerateDataKeyOutput)
		defer clear(dk.Plaintext)
		return jsonDoc(dk)
	case kindMetadata:
		o, errno := h.t.call(ctx, h.s, api.OpDescribeKey, what, &api.DescribeKeyInput{KeyId: h.ref})
		if errno != 0 {
			return nil, errno
		}
		return jsonDoc(o)
	case kindPolicy:
		id := h.ref
		if strings.HasPrefix(id, "alias/") { // GetKeyPolicy takes a key id, as in AWS
			o, errno := h.t.call(ctx, h.s, api.OpDescribeKey, what, &api.DescribeKeyInput{KeyId: id})
			if errno != 0 {
				return nil, errno
			}
			id = o.(*api.KeyMetadataOutput).KeyMetadata.KeyId
		}
		o, errno := h.t.call(ctx, h.s, api.OpGetKeyPolicy, what, &api.GetKeyPolicyInput{KeyId: id, PolicyName: "default"})
		if errno != 0 {
			return nil, errno
		}
		return append([]byte(o.(*api.GetKeyPolicyOutput).Policy), '\n'), 0
	case kindSign, kindVerify, kindMAC, kindPublicKey:
		return h.runAsymmetric(ctx, what)
	}
	return nil, syscall.EIO
}

// runAsymmetric serves the files of signing, MAC and public keys. sign,
// verify and mac use the algorithm of their alg/<ALGORITHM>/ directory,
// or in the key's own directory its first algorithm as DescribeKey lists
// it (RSASSA_PSS_SHA_256 for RSA, the curve's ECDSA, ML_DSA_SHAKE_256,
// the HMAC of the key's size).
func (h *handle) runAsymmetric(ctx context.Context, what string) ([]byte, syscall.Errno) {
	if h.kind == kindPublicKey {
		o, errno := h.t.call(ctx, h.s, api.OpGetPublicKey, what, &api.GetPublicKeyInput{KeyId: h.ref})
		if errno != 0 {
			return nil, errno
		}
		return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: o.(*api.GetPublicKeyOutput).PublicKey}), 0
	}
	algs := []string{h.alg}
	if h.alg == "" {
		o, errno := h.t.call(ctx, h.s, api.OpDescribeKey, what, &api.DescribeKeyInput{KeyId: h.ref})
		if errno != 0 {
			return nil, errno
		}
		md := o.(*api.KeyMetadataOutput).KeyMetadata
		if algs = md.SigningAlgorithms; h.kind == kindMAC {
			algs = md.MacAlgorithms
		}
		if len(algs) == 0 {
			h.t.refuse(ctx, syscall.EINVAL, "path", what, "err", "the key is a "+md.KeySpec+" key of usage "+md.KeyUsage)
			return nil, syscall.EINVAL
		}
	}
	switch h.kind {
	case kindSign:
		o, errno := h.t.call(ctx, h.s, api.OpSign, what, &api.SignInput{KeyId: h.ref, Message: h.in, SigningAlgorithm: algs[0]})
		if errno != 0 {
			return nil, errno
		}
		return o.(*api.SignOutput).Signature, 0
	case kindMAC:
		o, errno := h.t.call(ctx, h.s, api.OpGenerateMac, what, &api.GenerateMacInput{KeyId: h.ref, Message: h.in, MacAlgorithm: algs[0]})
		if errno != 0 {
			return nil, errno
		}
		return o.(*api.GenerateMacOutput).Mac, 0
	}
	line, msg, ok := bytes.Cut(h.in, []byte{'\n'})
	sig, err := base64.StdEncoding.AppendDecode(nil, stripSpace(line))
	if !ok || err != nil || len(sig) == 0 {
		h.t.refuse(ctx, syscall.EINVAL, "path", what, "err", "write the signature in base64, a newline, then the message")
		return nil, syscall.EINVAL
	}
	if _, errno := h.t.call(ctx, h.s, api.OpVerify, what, &api.VerifyInput{KeyId: h.ref, Message: msg, Signature: sig, SigningAlgorithm: algs[0]}); errno != 0 {
		return nil, errno
	}
	return []byte("true\n"), 0
}

// jsonDoc renders an output as `aws kms` prints it: indented JSON, byte
// fields in base64, and a final newline.
func jsonDoc(v any) ([]byte, syscall.Errno) {
	b, err := json.MarshalIndent(v, "", "    ")
	if err != nil {
		return nil, syscall.EIO
	}
	return append(b, '\n'), 0
}

// stripSpace drops the ASCII white space a shell adds around base64
// (echo's newline, wrapped lines).
func stripSpace(b []byte) []byte {
	if !bytes.ContainsAny(b, " \t\r\n") {
		return b
	}
	out := make([]byte, 0, len(b))
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			out = append(out, c)
		}
	}
	return out
}
