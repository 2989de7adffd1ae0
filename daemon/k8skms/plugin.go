package k8skms

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	kmsapi "k8s.io/kms/apis/v2"

	"kmsd/daemon/policy"
	"kmsd/wire/api"
)

// Limits of the KMS v2 API, as the apiserver holds them.
const (
	// MaxCiphertext is the most an EncryptResponse may carry.
	MaxCiphertext = 1 << 10
	// MaxAnnotations is the most annotations may hold in all.
	MaxAnnotations = 32 << 10
	// MaxPlaintext is the most a plaintext may be: the apiserver sends
	// 32-byte seeds (or keys); 512 bytes seal well within MaxCiphertext.
	MaxPlaintext = 512
	// maxUID bounds the request uid kept in the audit trail.
	maxUID = 128
	// maxMessage bounds a gRPC message: a plaintext or ciphertext and
	// its annotations.
	maxMessage = MaxAnnotations + 8<<10
)

// Context is the encryption context every ciphertext of the plugin is
// bound to.
var Context = map[string]string{"kmsd:purpose": "kubernetes-kms-v2"}

// Version is the API version Status answers.
const Version = "v2"

// Pipeline is kmsd's request path, as the plugin uses it (package daemon
// implements it).
type Pipeline interface {
	// AdmitConn counts a connection of uid in kmsd's connection limits,
	// or says why it is refused; ReleaseConn uncounts it.
	AdmitConn(uid uint32) (ok bool, why string)
	ReleaseConn(uid uint32)
	// Hold takes n bytes' units of uid's share of the in-flight budget.
	Hold(uid uint32, n int, quit <-chan struct{}) (over bool, release func(), ok bool)
	// Call serves one request as pr.
	Call(ctx context.Context, pr *policy.Principal, principal, rid, op string, in api.Message, over bool) (api.Message, error)
	// Throttled is the error of a request the budget refuses.
	Throttled() *api.Error
}

// Plugin is the KMS v2 service for one key.
type Plugin struct {
	kmsapi.UnimplementedKeyManagementServiceServer
	p   Pipeline
	key string // a key id, ARN or alias
	log *slog.Logger
	srv *grpc.Server
}

// New makes the plugin for key over p.
func New(p Pipeline, key string, log *slog.Logger) *Plugin {
	pl := &Plugin{p: p, key: key, log: log}
	pl.srv = grpc.NewServer(grpc.Creds(peerCreds{p: p}), grpc.MaxRecvMsgSize(maxMessage),
		grpc.MaxSendMsgSize(maxMessage), grpc.MaxConcurrentStreams(256))
	kmsapi.RegisterKeyManagementServiceServer(pl.srv, pl)
	return pl
}

// Serve serves l until Stop.
func (pl *Plugin) Serve(l net.Listener) error { return pl.srv.Serve(l) }

// Stop stops taking requests and waits for those in flight, at most
// until ctx is done.
func (pl *Plugin) Stop(ctx context.Context) {
	done := make(chan struct{})
	go func() { pl.srv.GracefulStop(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		pl.srv.Stop()
		<-done
	}
}

// KeyID is the plugin's key_id for a key's ARN and the key material that
// sealed: stable while both are, new after a rotation or an import, and
// never one it answered before (material ids are not reused).
func KeyID(arn, materialID string) string {
	h := sha256.Sum256([]byte(arn + "\x00" + materialID))
	return "kmsd-" + hex.EncodeToString(h[:16])
}

// Status answers with a real round trip under the key.
func (pl *Plugin) Status(ctx context.Context, _ *kmsapi.StatusRequest) (*kmsapi.StatusResponse, error) {
	seed := make([]byte, 32)
	rand.Read(seed)
	want := sha256.Sum256(seed) // kmsd wipes a request's plaintext once sealed
	enc, err := pl.encrypt(ctx, seed, "status")
	if err != nil {
		return &kmsapi.StatusResponse{Version: Version, Healthz: "kmsd: Encrypt under " + pl.key + " failed: " + reason(err)}, nil
	}
	back, err := pl.decrypt(ctx, enc.CiphertextBlob, "status")
	if err != nil {
		return &kmsapi.StatusResponse{Version: Version, Healthz: "kmsd: Decrypt under " + pl.key + " failed: " + reason(err)}, nil
	}
	got := sha256.Sum256(back.Plaintext)
	ok := got == want
	clear(back.Plaintext)
	if !ok {
		return &kmsapi.StatusResponse{Version: Version, Healthz: "kmsd: the round trip under " + pl.key + " did not give back its seed"}, nil
	}
	return &kmsapi.StatusResponse{Version: Version, Healthz: "ok", KeyId: KeyID(enc.KeyId, enc.KeyMaterialId)}, nil
}

// Encrypt seals a plaintext (a seed of the apiserver's) under the key.
func (pl *Plugin) Encrypt(ctx context.Context, req *kmsapi.EncryptRequest) (*kmsapi.EncryptResponse, error) {
	if n := len(req.Plaintext); n < 1 || n > MaxPlaintext {
		return nil, status.Errorf(codes.InvalidArgument, "plaintext of %d bytes: kmsd encrypts 1 to %d", n, MaxPlaintext)
	}
	out, err := pl.encrypt(ctx, req.Plaintext, req.Uid)
	if err != nil {
		return nil, grpcError(err)
	}
	if len(out.CiphertextBlob) > MaxCiphertext {
		return nil, status.Errorf(codes.Internal, "a ciphertext of %d bytes, over the API's %d", len(out.CiphertextBlob), MaxCiphertext)
	}
	return &kmsapi.EncryptResponse{Ciphertext: out.CiphertextBlob, KeyId: KeyID(out.KeyId, out.KeyMaterialId)}, nil
}

// Decrypt opens a ciphertext made under any material of the key.
func (pl *Plugin) Decrypt(ctx context.Context, req *kmsapi.DecryptRequest) (*kmsapi.DecryptResponse, error) {
	if n := len(req.Ciphertext); n < 1 || n > MaxCiphertext {
		return nil, status.Errorf(codes.InvalidArgument, "ciphertext of %d bytes: the API's are 1 to %d", n, MaxCiphertext)
	}
	if err := checkAnnotations(req.Annotations); err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	out, err := pl.decrypt(ctx, req.Ciphertext, req.Uid)
	if err != nil {
		return nil, grpcError(err)
	}
	return &kmsapi.DecryptResponse{Plaintext: out.Plaintext}, nil
}

func (pl *Plugin) encrypt(ctx context.Context, plaintext []byte, uid string) (*api.EncryptOutput, error) {
	out, err := pl.call(ctx, api.OpEncrypt, &api.EncryptInput{KeyId: pl.key, Plaintext: plaintext, EncryptionContext: Context}, len(plaintext), uid)
	if err != nil {
		return nil, err
	}
	return out.(*api.EncryptOutput), nil
}

func (pl *Plugin) decrypt(ctx context.Context, blob []byte, uid string) (*api.DecryptOutput, error) {
	out, err := pl.call(ctx, api.OpDecrypt, &api.DecryptInput{KeyId: pl.key, CiphertextBlob: blob, EncryptionContext: Context}, len(blob), uid)
	if err != nil {
		return nil, err
	}
	return out.(*api.DecryptOutput), nil
}

// call runs op as the connection's caller, through the budget and the
// request path.
func (pl *Plugin) call(ctx context.Context, op string, in api.Message, size int, uid string) (api.Message, error) {
	pr := callerOf(ctx)
	if pr == nil {
		return nil, &api.Error{Code: api.CodeAccessDenied, Message: "the caller is not known"}
	}
	over, release, ok := pl.p.Hold(pr.UID, size, ctx.Done())
	if !ok {
		return nil, pl.p.Throttled()
	}
	defer release()
	return pl.p.Call(ctx, pr, pr.String(), "k8s:"+requestUID(uid), op, in, over)
}

// requestUID is the request's uid as the audit trail keeps it: printable,
// bounded.
func requestUID(uid string) string {
	uid = strings.Map(func(r rune) rune {
		if r < 0x21 || r > 0x7e {
			return '_'
		}
		return r
	}, uid)
	if len(uid) > maxUID {
		uid = uid[:maxUID]
	}
	if uid == "" {
		return "-"
	}
	return uid
}

// checkAnnotations holds annotations to the API's rules: keys that are
// DNS subdomain names, at most MaxAnnotations bytes in all.
func checkAnnotations(a map[string][]byte) error {
	total := 0
	for k, v := range a {
		total += len(k) + len(v)
		if !dnsSubdomain(k) {
			return fmt.Errorf("annotation key %q is not a DNS subdomain name", k)
		}
	}
	if total > MaxAnnotations {
		return fmt.Errorf("annotations of %d bytes, over the API's %d", total, MaxAnnotations)
	}
	return nil
}

// dnsSubdomain reports whether s is a DNS subdomain name (RFC 1123): at
// most 253 characters, dot-separated labels of lower-case letters, digits
// and '-', each beginning and ending with a letter or digit.
func dnsSubdomain(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// reason is an error as Status's healthz says it.
func reason(err error) string {
	var ae *api.Error
	if errors.As(err, &ae) {
		return ae.Code + ": " + ae.Message
	}
	return err.Error()
}

// grpcError is kmsd's error as a gRPC status, with the exception's name.
func grpcError(err error) error {
	var ae *api.Error
	if !errors.As(err, &ae) {
		return status.Error(codes.Internal, err.Error())
	}
	code := codes.Internal
	switch ae.Code {
	case api.CodeAccessDenied:
		code = codes.PermissionDenied
	case api.CodeNotFound:
		code = codes.NotFound
	case api.CodeValidation, api.CodeInvalidCiphertext, api.CodeIncorrectKey:
		code = codes.InvalidArgument
	case api.CodeDisabled, api.CodeInvalidState:
		code = codes.FailedPrecondition
	case api.CodeThrottling:
		code = codes.ResourceExhausted
	}
	return status.Error(code, ae.Code+": "+ae.Message)
}
