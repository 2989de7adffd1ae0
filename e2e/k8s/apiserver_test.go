package k8s

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"k8s.io/apiserver/pkg/storage/value"
	"k8s.io/apiserver/pkg/storage/value/encrypt/envelope/kmsv2"
	kmsapi "k8s.io/kms/apis/v2"
	kmsservice "k8s.io/kms/pkg/service"

	"kmsd/internal/testkit"
)

// plugin starts kmsd with the plugin on DIR/k8s.sock under alias/k8s,
// in dir (a restart passes the same one).
func plugin(t *testing.T, dir string) (*testkit.Daemon, string) {
	t.Helper()
	sock := filepath.Join(dir, "k8s.sock")
	d := testkit.Start(t, testkit.Config{Dir: dir, Args: []string{"--k8s-kms-listen", "unix:" + sock,
		"--k8s-kms-key", "alias/k8s", "--k8s-kms-socket-mode", "0666", "--k8s-kms-socket-group", "daemon"}})
	return d, sock
}

// apiserver is the apiserver's side: its gRPC client of the plugin and
// its envelope transformer, whose state (the DEK seed, sealed by the
// plugin, and the key_id it was sealed under) is made as kube-apiserver
// makes it (kmsv2.GenerateTransformer) and made again when Status
// answers another key_id, as kube-apiserver's health loop does.
type apiserver struct {
	t     *testing.T
	svc   kmsservice.Service
	state kmsv2.State
	tr    value.Transformer
}

func newAPIServer(t *testing.T, ctx context.Context, sock string) *apiserver {
	svc, err := kmsv2.NewGRPCService(ctx, "unix://"+sock, "kmsd", 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	a := &apiserver{t: t, svc: svc}
	a.tr = kmsv2.NewEnvelopeTransformer(svc, "kmsd", func() (kmsv2.State, error) { return a.state, nil }, "apiserver-test")
	return a
}

// status is the plugin's Status, which must be healthy.
func (a *apiserver) status(ctx context.Context) *kmsservice.StatusResponse {
	a.t.Helper()
	st, err := a.svc.Status(ctx)
	if err != nil {
		a.t.Fatalf("Status: %v", err)
	}
	if st.Version != "v2" || st.Healthz != "ok" || st.KeyID == "" {
		a.t.Fatalf("Status: %+v", st)
	}
	return st
}

// refresh makes the transformer's state anew, as kube-apiserver does
// when Status's key_id is not its state's.
func (a *apiserver) refresh(ctx context.Context, keyID string) {
	a.t.Helper()
	tr, obj, cacheKey, err := kmsv2.GenerateTransformer(ctx, "uid-refresh", a.svc, true)
	if err != nil {
		a.t.Fatalf("making the DEK seed's state: %v", err)
	}
	if obj.KeyID != keyID {
		a.t.Fatalf("Encrypt answered key_id %s, Status %s", obj.KeyID, keyID)
	}
	a.state = kmsv2.State{Transformer: tr, EncryptedObjectKeyID: obj.KeyID, EncryptedObjectEncryptedDEKSource: obj.EncryptedDEKSource,
		EncryptedObjectAnnotations: obj.Annotations, EncryptedObjectEncryptedDEKSourceType: obj.EncryptedDEKSourceType,
		UID: "uid-refresh", ExpirationTimestamp: time.Now().Add(time.Hour), CacheKey: cacheKey, KMSProviderName: "kmsd"}
}

// TestAPIServerDrivesKMSD: kube-apiserver's own KMS v2 client and envelope
// code against the real kmsd: Status, seeds, 1,000 objects with a
// rotation in the middle (the key_id changes, new writes take it, old
// objects still read and are reported stale), a kmsd restart (the client
// reconnects), a disabled key (Status unhealthy, saying why), and a caller
// the key policy refuses.
func TestAPIServerDrivesKMSD(t *testing.T) {
	testkit.RequireRoot(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := testkit.ShortDir(t)
	os.Chmod(dir, 0o755) // the refused caller, not root, must reach the socket
	// a stale socket, as a kmsd that crashed leaves it: replaced at start
	stale, err := net.ListenUnix("unix", &net.UnixAddr{Name: filepath.Join(dir, "k8s.sock"), Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	stale.SetUnlinkOnClose(false)
	stale.Close()
	d, sock := plugin(t, dir)
	if fi, err := os.Stat(sock); err != nil || fi.Mode().Perm() != 0o666 || fi.Mode()&os.ModeSocket == 0 {
		t.Fatalf("the plugin's socket: %v %v", fi.Mode(), err)
	} else if g, err := user.LookupGroup("daemon"); err != nil || strconv.Itoa(int(fi.Sys().(*syscall.Stat_t).Gid)) != g.Gid {
		t.Fatalf("the plugin's socket is not the daemon group's (--k8s-kms-socket-group): %v", err)
	}

	a := newAPIServer(t, ctx, sock)
	// no key yet: unhealthy, saying why
	if st, err := a.svc.Status(ctx); err != nil || st.Healthz == "ok" || !strings.Contains(st.Healthz, "NotFoundException") {
		t.Fatalf("Status before the key exists: %+v %v", st, err)
	}
	key := strings.TrimSpace(d.OK(t, "create-key", "--description", "kubernetes secrets", "--query", "KeyMetadata.KeyId", "--output", "text"))
	d.OK(t, "create-alias", "--alias-name", "alias/k8s", "--target-key-id", key)
	st := a.status(ctx)
	if again := a.status(ctx); again.KeyID != st.KeyID {
		t.Fatalf("key_id moved with nothing changed: %s then %s", st.KeyID, again.KeyID)
	}

	// seeds
	for _, seed := range [][]byte{bytes.Repeat([]byte{1}, 32), []byte("a"), bytes.Repeat([]byte{0xff}, 512)} {
		enc, err := a.svc.Encrypt(ctx, "uid-seed", seed)
		if err != nil {
			t.Fatalf("Encrypt of %d bytes: %v", len(seed), err)
		}
		if enc.KeyID != st.KeyID || len(enc.Ciphertext) > 1024 {
			t.Fatalf("Encrypt: key_id %s (Status %s), %d bytes", enc.KeyID, st.KeyID, len(enc.Ciphertext))
		}
		dec, err := a.svc.Decrypt(ctx, "uid-seed", &kmsservice.DecryptRequest{Ciphertext: enc.Ciphertext, KeyID: enc.KeyID, Annotations: enc.Annotations})
		if err != nil || !bytes.Equal(dec, seed) {
			t.Fatalf("Decrypt of %d bytes: %v", len(seed), err)
		}
	}
	if _, err := a.svc.Encrypt(ctx, "uid-big", make([]byte, 513)); err == nil || !strings.Contains(err.Error(), "InvalidArgument") {
		t.Errorf("a plaintext over 512 bytes: %v", err)
	}

	// 1,000 objects, a rotation after the first 500
	a.refresh(ctx, st.KeyID)
	stored := make([][]byte, 1000)
	write := func(i int) {
		data := fmt.Appendf(nil, `{"kind":"Secret","metadata":{"name":"s%d"},"data":{"k":"%x"}}`, i, i*7919)
		out, err := a.tr.TransformToStorage(ctx, data, value.DefaultContext(fmt.Sprintf("/registry/secrets/default/s%d", i)))
		if err != nil {
			t.Fatalf("object %d: %v", i, err)
		}
		stored[i] = out
	}
	for i := range 500 {
		write(i)
	}
	d.OK(t, "rotate-key-on-demand", "--key-id", key)
	rotated := a.status(ctx)
	if rotated.KeyID == st.KeyID {
		t.Fatalf("the key_id did not change with the rotation: %s", rotated.KeyID)
	}
	a.refresh(ctx, rotated.KeyID)
	for i := 500; i < 1000; i++ {
		write(i)
	}
	read := func(when string) {
		t.Helper()
		for i, s := range stored {
			want := fmt.Appendf(nil, `{"kind":"Secret","metadata":{"name":"s%d"},"data":{"k":"%x"}}`, i, i*7919)
			got, stale, err := a.tr.TransformFromStorage(ctx, s, value.DefaultContext(fmt.Sprintf("/registry/secrets/default/s%d", i)))
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("%s: object %d: %v", when, i, err)
			}
			if wantStale := i < 500; stale != wantStale {
				t.Fatalf("%s: object %d reported stale=%v", when, i, stale)
			}
		}
	}
	read("after the rotation")

	// a restart: the client reconnects, the key_id stays, old objects
	// decrypt through kmsd again (a fresh transformer has no cache)
	if err := d.Stop(); err != nil {
		t.Fatalf("stopping kmsd: %v", err)
	}
	d, _ = plugin(t, dir)
	if again := a.status(ctx); again.KeyID != rotated.KeyID {
		t.Fatalf("after a restart the key_id is %s, was %s", again.KeyID, rotated.KeyID)
	}
	fresh := newAPIServer(t, ctx, sock)
	fresh.state = a.state
	a = fresh
	read("after a restart")

	// a caller the key policy refuses: Status says so, Encrypt fails; as
	// everywhere in kmsd, a key the caller may not use is one it cannot
	// see (NotFoundException), and the refusal is in the audit trail
	conn, err := grpc.NewClient("passthrough:///k8s", grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithContextDialer(func(context.Context, string) (net.Conn, error) { return testkit.DialAs(t, sock, 65534, 65534), nil }))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	nobody := kmsapi.NewKeyManagementServiceClient(conn)
	if st, err := nobody.Status(ctx, &kmsapi.StatusRequest{}); err != nil || st.Healthz == "ok" || !strings.Contains(st.Healthz, "NotFoundException") {
		t.Errorf("Status for a refused caller: %+v %v", st, err)
	}
	if _, err := nobody.Encrypt(ctx, &kmsapi.EncryptRequest{Plaintext: []byte("x"), Uid: "u"}); err == nil || !strings.Contains(err.Error(), "NotFoundException") {
		t.Errorf("Encrypt for a refused caller: %v", err)
	}
	if out := d.OK(t, "audit", "query", "--operation", "Encrypt", "--principal", "uid:65534"); !strings.Contains(out, `"source":"k8s"`) || !strings.Contains(out, `"request_id":"k8s:u"`) {
		t.Errorf("the refusal is not in the audit trail as the plugin's: %s", out)
	}

	// the policy docs/kubernetes.md shows, for this caller: Encrypt and
	// Decrypt bound to the plugin's encryption context; with another
	// context's value in the condition, refused again
	policy := func(purpose string) string {
		return `{"Statement":[{"Effect":"Allow","Principal":{"Kmsd":["uid:0"]},"Action":"kms:*","Resource":"*"},` +
			`{"Effect":"Allow","Principal":{"Kmsd":"uid:65534"},"Action":["kms:Encrypt","kms:Decrypt"],"Resource":"*",` +
			`"Condition":{"StringEquals":{"kms:EncryptionContext:kmsd:purpose":"` + purpose + `"}}}]}`
	}
	d.OK(t, "put-key-policy", "--key-id", key, "--policy", policy("kubernetes-kms-v2"))
	if st, err := nobody.Status(ctx, &kmsapi.StatusRequest{}); err != nil || st.Healthz != "ok" || st.KeyId != rotated.KeyID {
		t.Errorf("Status for the caller the policy allows: %+v %v", st, err)
	}
	d.OK(t, "put-key-policy", "--key-id", key, "--policy", policy("something-else"))
	if st, err := nobody.Status(ctx, &kmsapi.StatusRequest{}); err != nil || st.Healthz == "ok" {
		t.Errorf("Status for a caller allowed another context only: %+v %v", st, err)
	}

	// a disabled key: unhealthy, saying why
	d.OK(t, "disable-key", "--key-id", key)
	if st, err := a.svc.Status(ctx); err != nil || st.Healthz == "ok" || !strings.Contains(st.Healthz, "DisabledException") {
		t.Errorf("Status with the key disabled: %+v %v", st, err)
	}
	d.OK(t, "enable-key", "--key-id", key)
	a.status(ctx)
	// a key pending deletion: unhealthy, saying why; back once cancelled
	d.OK(t, "schedule-key-deletion", "--key-id", key, "--pending-window-in-days", "7")
	if st, err := a.svc.Status(ctx); err != nil || st.Healthz == "ok" || !strings.Contains(st.Healthz, "KMSInvalidStateException") {
		t.Errorf("Status with the key pending deletion: %+v %v", st, err)
	}
	d.OK(t, "cancel-key-deletion", "--key-id", key)
	d.OK(t, "enable-key", "--key-id", key)
	if again := a.status(ctx); again.KeyID != rotated.KeyID {
		t.Errorf("the key_id moved with no new material: %s, was %s", again.KeyID, rotated.KeyID)
	}
}
