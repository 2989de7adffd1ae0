package fusefs

import (
	"context"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// The AWS KMS limits on what a transaction takes, checked here before
// anything is buffered, as the service checks them again.
const (
	maxPlaintext  = 4096 // Encrypt's Plaintext
	maxCiphertext = 6144 // Decrypt's CiphertextBlob; Verify's Signature too
	maxMessage    = 4096 // Sign's, Verify's and GenerateMac's Message
	// base64 of the largest input, and room for line breaks around it.
	maxBase64 = (maxCiphertext+2)/3*4 + 256
)

// fileKind is what a file of a key directory does.
type fileKind uint8

const (
	kindEncrypt    fileKind = iota + 1 // write plaintext, read the ciphertext blob
	kindEncryptB64                     // write plaintext, read the blob in base64 and a newline
	kindDecrypt                        // write a blob, read the plaintext
	kindDecryptB64                     // write a blob in base64, read the plaintext
	kindDataKey                        // read a new data key, as JSON
	kindMetadata                       // read DescribeKey, as JSON
	kindPolicy                         // read the key policy document
	kindSign                           // write a message, read its signature (DER for ECDSA)
	kindVerify                         // write a signature in base64, a newline and the message; read "true"
	kindMAC                            // write a message, read its HMAC
	kindPublicKey                      // read the public key, PEM
	lastKind       = kindPublicKey
)

// fileNames names the kinds, in the order a directory lists them;
// fileKinds looks a name up.
var (
	fileNames = [...]string{
		kindEncrypt: "encrypt", kindEncryptB64: "encrypt.b64", kindDecrypt: "decrypt", kindDecryptB64: "decrypt.b64",
		kindDataKey: "datakey", kindMetadata: "metadata.json", kindPolicy: "policy.json",
		kindSign: "sign", kindVerify: "verify", kindMAC: "mac", kindPublicKey: "public-key.pem",
	}
	fileKinds = func() map[string]fileKind {
		m := make(map[string]fileKind, len(fileNames))
		for k, n := range fileNames {
			if n != "" {
				m[n] = fileKind(k)
			}
		}
		return m
	}()
)

func (k fileKind) name() string { return fileNames[k] }

// takesInput reports whether the file is written before it is read.
func (k fileKind) takesInput() bool {
	return k <= kindDecryptB64 || k == kindSign || k == kindVerify || k == kindMAC
}

// takesContext reports whether an encryption context applies, so that
// the file also appears under context/<segment>/.
func (k fileKind) takesContext() bool { return k <= kindDataKey }

// maxInput is the most a handle buffers before refusing a write.
func (k fileKind) maxInput() int {
	switch k {
	case kindEncrypt, kindEncryptB64:
		return maxPlaintext
	case kindDecrypt:
		return maxCiphertext
	case kindDecryptB64:
		return maxBase64
	case kindSign, kindMAC:
		return maxMessage
	case kindVerify:
		return maxBase64 + 1 + maxMessage
	}
	return 0
}

func (k fileKind) perm() uint32 {
	if k.takesInput() {
		return 0o666
	}
	return 0o444
}

// file is a node of a key directory; every open of it is a transaction.
type file struct {
	fs.Inode
	t    *tree
	kind fileKind
	ref  string
	ec   map[string]string
	alg  string // the algorithm of alg/<ALGORITHM>/, if the file is there
}

var (
	_ fs.NodeOpener    = (*file)(nil)
	_ fs.NodeGetattrer = (*file)(nil)
	_ fs.NodeSetattrer = (*file)(nil)
)

// Getattr reports an empty file: what a read returns exists only once a
// handle has run its operation.
func (f *file) Getattr(ctx context.Context, fh fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	out.Mode = syscall.S_IFREG | f.kind.perm()
	out.Size = 0
	out.SetTimeout(entryTTL)
	return 0
}

// Setattr accepts the truncation a shell's ">" asks for, and nothing
// changes: there is nothing stored to truncate.
func (f *file) Setattr(ctx context.Context, fh fs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	return f.Getattr(ctx, fh, out)
}

// Open binds the caller to a new handle. Direct I/O keeps every read and
// write going to the handle (and secrets out of the page cache); the file
// is not seekable, and offsets are ignored.
func (f *file) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	if f.t.closing.Load() {
		return nil, 0, syscall.ESHUTDOWN
	}
	switch mode := flags & syscall.O_ACCMODE; {
	case !f.kind.takesInput() && mode != syscall.O_RDONLY:
		return nil, 0, syscall.EACCES
	case f.kind.takesInput() && mode == syscall.O_WRONLY:
		// A write-only descriptor can never read the result: the input
		// would be taken and the answer lost (printf x > encrypt).
		f.t.refuse(ctx, syscall.EINVAL, "path", f.kind.name(), "key", f.ref,
			"err", "opened write-only: open it read-write (exec 3<>FILE), write, then read the result")
		return nil, 0, syscall.EINVAL
	}
	h := &handle{t: f.t, s: f.t.session(ctx), kind: f.kind, ref: f.ref, ec: f.ec, alg: f.alg}
	return h, fuse.FOPEN_DIRECT_IO | fuse.FOPEN_NONSEEKABLE, 0
}
