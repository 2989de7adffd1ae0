package daemon_test

import (
	"bytes"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"kmsd/daemon/socket"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"kmsd/daemon"
	"kmsd/daemon/kms"
	"kmsd/internal/testkit"
	"kmsd/wire"
	"kmsd/wire/api"
	"kmsd/wire/client"
)

func TestListen(t *testing.T) {
	dir := testkit.ShortDir(t)
	sock := filepath.Join(dir, "s")
	ln, err := socket.Listen(socket.ListenConfig{Path: sock, Group: fmt.Sprint(os.Getgid())})
	if err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(sock)
	if st.Mode().Perm() != 0o660 || st.Mode()&os.ModeSocket == 0 {
		t.Fatalf("socket mode %v", st.Mode())
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	if _, err := socket.Listen(socket.ListenConfig{Path: sock}); err == nil {
		t.Fatal("took over a live socket")
	}
	// A stale socket (nobody listening) is replaced.
	ln.UnixListener.Close() // not Socket.Close, which removes the file
	if _, err := os.Stat(sock); err != nil {
		t.Fatal("the stale socket should still be there for this test")
	}
	ln2, err := socket.Listen(socket.ListenConfig{Path: sock, Mode: 0o600})
	if err != nil {
		t.Fatalf("stale socket not replaced: %v", err)
	}
	st, _ = os.Stat(sock)
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", st.Mode())
	}
	ln2.Close()
	file := filepath.Join(dir, "file")
	os.WriteFile(file, []byte("keep me"), 0o600)
	if _, err := socket.Listen(socket.ListenConfig{Path: file}); err == nil {
		t.Fatal("replaced a regular file")
	}
	if b, _ := os.ReadFile(file); string(b) != "keep me" {
		t.Fatal("regular file changed")
	}
	if _, err := socket.Listen(socket.ListenConfig{Path: filepath.Join(dir, "g"), Group: "no-such-group-kmsd"}); err == nil {
		t.Fatal("unknown group accepted")
	}
}

func TestPeerCredentialsReachRequests(t *testing.T) {
	ts := startServer(t)
	c := dial(t, ts.sock)
	if _, err := c.Status(ctx, &api.StatusInput{}); err != nil {
		t.Fatal(err)
	}
	ps := ts.srv.Principals()
	if len(ps) != 1 {
		t.Fatalf("%d connections", len(ps))
	}
	for _, p := range ps {
		if p == nil || p.UID != uint32(os.Getuid()) || p.GID != uint32(os.Getgid()) || p.PID != int32(os.Getpid()) || p.Source != "socket" {
			t.Fatalf("principal %+v", p)
		}
	}
}

func TestEveryOperationOverTheSocket(t *testing.T) {
	ts := startServer(t)
	c := dial(t, ts.sock)
	h, err := c.Hello(ctx)
	if err != nil || h.ProtocolVersion != wire.ProtocolVersion || h.Suite == "" || h.Limits.MaxFrame != wire.MaxFrame || h.CPU.PhysicalCores == 0 {
		t.Fatalf("hello %+v %v", h, err)
	}
	id := newKey(t, c)
	ec := map[string]string{"app": "test"}
	steps := []struct {
		name string
		f    func() error
	}{
		{"DescribeKey", func() error { _, err := c.DescribeKey(ctx, &api.DescribeKeyInput{KeyId: id}); return err }},
		{"ListKeys", func() error {
			o, err := c.ListKeys(ctx, &api.ListKeysInput{})
			if err == nil && len(o.Keys) != 1 {
				err = fmt.Errorf("%d keys", len(o.Keys))
			}
			return err
		}},
		{"UpdateKeyDescription", func() error {
			_, err := c.UpdateKeyDescription(ctx, &api.UpdateKeyDescriptionInput{KeyId: id, Description: "d"})
			return err
		}},
		{"CreateAlias", func() error {
			_, err := c.CreateAlias(ctx, &api.AliasInput{AliasName: "alias/a", TargetKeyId: id})
			return err
		}},
		{"UpdateAlias", func() error {
			_, err := c.UpdateAlias(ctx, &api.AliasInput{AliasName: "alias/a", TargetKeyId: id})
			return err
		}},
		{"ListAliases", func() error {
			o, err := c.ListAliases(ctx, &api.ListAliasesInput{})
			if err == nil && len(o.Aliases) != 1 {
				err = fmt.Errorf("%d aliases", len(o.Aliases))
			}
			return err
		}},
		{"TagResource", func() error {
			_, err := c.TagResource(ctx, &api.TagResourceInput{KeyId: id, Tags: []api.Tag{{TagKey: "k", TagValue: "v"}}})
			return err
		}},
		{"ListResourceTags", func() error {
			o, err := c.ListResourceTags(ctx, &api.ListResourceTagsInput{KeyId: id})
			if err == nil && len(o.Tags) != 1 {
				err = fmt.Errorf("tags %v", o.Tags)
			}
			return err
		}},
		{"UntagResource", func() error {
			_, err := c.UntagResource(ctx, &api.UntagResourceInput{KeyId: id, TagKeys: []string{"k"}})
			return err
		}},
		{"Encrypt/Decrypt/ReEncrypt", func() error {
			e, err := c.Encrypt(ctx, &api.EncryptInput{KeyId: "alias/a", Plaintext: []byte("pt"), EncryptionContext: ec})
			if err != nil {
				return err
			}
			r, err := c.ReEncrypt(ctx, &api.ReEncryptInput{CiphertextBlob: e.CiphertextBlob, SourceEncryptionContext: ec, DestinationKeyId: id})
			if err != nil {
				return err
			}
			d, err := c.Decrypt(ctx, &api.DecryptInput{CiphertextBlob: r.CiphertextBlob})
			if err == nil && string(d.Plaintext) != "pt" {
				err = fmt.Errorf("plaintext %q", d.Plaintext)
			}
			return err
		}},
		{"GenerateDataKey", func() error {
			o, err := c.GenerateDataKey(ctx, &api.GenerateDataKeyInput{KeyId: id, KeySpec: "AES_256"})
			if err == nil && len(o.Plaintext) != 32 {
				err = fmt.Errorf("%d bytes", len(o.Plaintext))
			}
			return err
		}},
		{"GenerateDataKeyWithoutPlaintext", func() error {
			o, err := c.GenerateDataKeyWithoutPlaintext(ctx, &api.GenerateDataKeyInput{KeyId: id, NumberOfBytes: api.Int32(8)})
			if err == nil && o.Plaintext != nil {
				err = errors.New("plaintext returned")
			}
			return err
		}},
		{"GenerateRandom", func() error {
			o, err := c.GenerateRandom(ctx, &api.GenerateRandomInput{NumberOfBytes: api.Int32(5)})
			if err == nil && len(o.Plaintext) != 5 {
				err = errors.New("wrong size")
			}
			return err
		}},
		{"Sign/Verify/GetPublicKey", func() error { return signOverSocket(c) }},
		{"GenerateMac/VerifyMac", func() error { return macOverSocket(c) }},
		{"DeriveSharedSecret", func() error { return agreeOverSocket(c) }},
		{"GenerateDataKeyPair/GenerateDataKeyPairWithoutPlaintext", func() error {
			p, err := c.GenerateDataKeyPair(ctx, &api.GenerateDataKeyPairInput{KeyId: id, KeyPairSpec: "ECC_NIST_P256", EncryptionContext: ec})
			if err != nil {
				return err
			}
			if _, err := x509.ParsePKCS8PrivateKey(p.PrivateKeyPlaintext); err != nil {
				return fmt.Errorf("private key: %w", err)
			}
			d, err := c.Decrypt(ctx, &api.DecryptInput{CiphertextBlob: p.PrivateKeyCiphertextBlob, EncryptionContext: ec})
			if err != nil || !bytes.Equal(d.Plaintext, p.PrivateKeyPlaintext) {
				return fmt.Errorf("the blob does not decrypt to the private key: %v", err)
			}
			w, err := c.GenerateDataKeyPairWithoutPlaintext(ctx, &api.GenerateDataKeyPairInput{KeyId: id, KeyPairSpec: "ECC_SECG_P256K1"})
			if err == nil && (w.PrivateKeyPlaintext != nil || len(w.PublicKey) == 0) {
				err = fmt.Errorf("without plaintext: %+v", w)
			}
			return err
		}},
		{"EnableKeyRotation", func() error { _, err := c.EnableKeyRotation(ctx, &api.EnableKeyRotationInput{KeyId: id}); return err }},
		{"GetKeyRotationStatus", func() error {
			o, err := c.GetKeyRotationStatus(ctx, &api.KeyIDInput{KeyId: id})
			if err == nil && !o.KeyRotationEnabled {
				err = errors.New("not enabled")
			}
			return err
		}},
		{"DisableKeyRotation", func() error { _, err := c.DisableKeyRotation(ctx, &api.KeyIDInput{KeyId: id}); return err }},
		{"RotateKeyOnDemand", func() error { _, err := c.RotateKeyOnDemand(ctx, &api.KeyIDInput{KeyId: id}); return err }},
		{"ListKeyRotations", func() error {
			o, err := c.ListKeyRotations(ctx, &api.ListKeyRotationsInput{KeyId: id})
			if err == nil && len(o.Rotations) != 1 {
				err = fmt.Errorf("%d rotations", len(o.Rotations))
			}
			return err
		}},
		{"GetKeyPolicy/ListKeyPolicies/PutKeyPolicy", func() error {
			pol, err := c.GetKeyPolicy(ctx, &api.GetKeyPolicyInput{KeyId: id})
			if err != nil {
				return err
			}
			names, err := c.ListKeyPolicies(ctx, &api.ListKeyPoliciesInput{KeyId: id})
			if err != nil || len(names.PolicyNames) != 1 {
				return fmt.Errorf("policy names %v %v", names, err)
			}
			_, err = c.PutKeyPolicy(ctx, &api.PutKeyPolicyInput{KeyId: id, Policy: pol.Policy})
			return err
		}},
		{"CreateGrant/ListGrants/ListRetirableGrants/RetireGrant/RevokeGrant", func() error {
			g1, err := c.CreateGrant(ctx, &api.CreateGrantInput{KeyId: id, GranteePrincipal: "uid:4242", RetiringPrincipal: "uid:0", Operations: []string{"Encrypt"}})
			if err != nil {
				return err
			}
			g2, err := c.CreateGrant(ctx, &api.CreateGrantInput{KeyId: id, GranteePrincipal: "uid:4243", Operations: []string{"Decrypt"}})
			if err != nil {
				return err
			}
			l, err := c.ListGrants(ctx, &api.ListGrantsInput{KeyId: id})
			if err != nil || len(l.Grants) != 2 {
				return fmt.Errorf("grants %+v %v", l, err)
			}
			r, err := c.ListRetirableGrants(ctx, &api.ListRetirableGrantsInput{RetiringPrincipal: "uid:0"})
			if err != nil || len(r.Grants) != 1 || r.Grants[0].GrantId != g1.GrantId {
				return fmt.Errorf("retirable %+v %v", r, err)
			}
			if _, err := c.RetireGrant(ctx, &api.RetireGrantInput{GrantToken: g1.GrantToken}); err != nil {
				return err
			}
			_, err = c.RevokeGrant(ctx, &api.RevokeGrantInput{KeyId: id, GrantId: g2.GrantId})
			return err
		}},
		{"GetKeyLastUsage", func() error {
			o, err := c.GetKeyLastUsage(ctx, &api.KeyIDInput{KeyId: id})
			if err == nil && (o.KeyLastUsage.Operation == "" || o.KeyLastUsage.EventId == "" || o.KeyCreationDate.IsZero()) {
				err = fmt.Errorf("last usage %+v", o)
			}
			return err
		}},
		{"GetUsage", func() error {
			o, err := c.GetUsage(ctx, &api.GetUsageInput{WindowMinutes: api.Int32(5)})
			if err == nil && len(o.Usage) == 0 {
				err = fmt.Errorf("usage %+v", o)
			}
			return err
		}},
		{"VerifyAuditCheckpoints", func() error {
			o, err := c.VerifyAuditCheckpoints(ctx, &api.VerifyAuditCheckpointsInput{Checkpoints: []api.AuditCheckpoint{{Seq: 1, Prev: strings.Repeat("0", 64), Mac: "00"}}})
			if err == nil && (o.FirstInvalid != 0 || o.AuditDir == "") {
				err = fmt.Errorf("verify %+v", o)
			}
			return err
		}},
		{"CreateBackup", func() error {
			b, err := c.CreateBackup(ctx, &api.CreateBackupInput{})
			if err != nil {
				return err
			}
			var got []byte
			for !bytes.HasPrefix(got, []byte("KMSDBAK1")) || int64(len(got)) < b.Size {
				p, err := c.GetBackupPart(ctx, &api.GetBackupPartInput{BackupId: b.BackupId, Offset: int64(len(got))})
				if err != nil {
					return err
				}
				got = append(got, p.Data...)
				if p.Done {
					break
				}
			}
			if int64(len(got)) != b.Size || b.Keys == 0 {
				return fmt.Errorf("backup of %d bytes read as %d (%+v)", b.Size, len(got), b)
			}
			return nil
		}},
		{"RotateRootKey", func() error {
			_, err := c.RotateRootKey(ctx, &api.RotateRootKeyInput{})
			if api.CodeOf(err) != api.CodeUnsupportedOperation {
				return fmt.Errorf("rotating a root key kmsd was given: %v", err)
			}
			return nil
		}},
		{"GetBackupPart", func() error {
			_, err := c.GetBackupPart(ctx, &api.GetBackupPartInput{BackupId: "gone"})
			if api.CodeOf(err) != api.CodeNotFound {
				return fmt.Errorf("a backup id that is not kmsd's: %v", err)
			}
			return nil
		}},
		{"GetParametersForImport/ImportKeyMaterial/DeleteImportedKeyMaterial", func() error {
			ext, err := c.CreateKey(ctx, &api.CreateKeyInput{Origin: api.OriginExternal})
			if err != nil {
				return err
			}
			id := ext.KeyMetadata.KeyId
			p, err := c.GetParametersForImport(ctx, &api.GetParametersForImportInput{KeyId: id, WrappingAlgorithm: api.WrapOAEPSHA256, WrappingKeySpec: api.WrapRSA2048})
			if err != nil {
				return err
			}
			pub, err := x509.ParsePKIXPublicKey(p.PublicKey)
			if err != nil {
				return err
			}
			wrapped, err := rsa.EncryptOAEP(sha256.New(), rand.Reader, pub.(*rsa.PublicKey), make([]byte, 32), nil)
			if err != nil {
				return err
			}
			if _, err := c.ImportKeyMaterial(ctx, &api.ImportKeyMaterialInput{KeyId: id, ImportToken: p.ImportToken,
				EncryptedKeyMaterial: wrapped, ExpirationModel: api.ExpirationDoesNotExpire}); err != nil {
				return err
			}
			_, err = c.DeleteImportedKeyMaterial(ctx, &api.DeleteImportedKeyMaterialInput{KeyId: id})
			return err
		}},
		{"CreateCustomKeyStore/DescribeCustomKeyStores/UpdateCustomKeyStore/ConnectCustomKeyStore/DisconnectCustomKeyStore/DeleteCustomKeyStore", func() error {
			// A module that is there (a file only root can write, checked
			// when the store is made) but does not load, as no ELF file: the
			// store connects to FAILED.
			pin := filepath.Join(t.TempDir(), "pin")
			if err := os.WriteFile(pin, []byte("1234"), 0o600); err != nil {
				return err
			}
			cs, err := c.CreateCustomKeyStore(ctx, &api.CreateCustomKeyStoreInput{CustomKeyStoreName: "s",
				Pkcs11Module: "/etc/passwd", TokenLabel: "t", KeyStorePasswordFile: pin})
			if err != nil {
				return err
			}
			in := &api.CustomKeyStoreIDInput{CustomKeyStoreId: cs.CustomKeyStoreId}
			if _, err := c.UpdateCustomKeyStore(ctx, &api.UpdateCustomKeyStoreInput{CustomKeyStoreId: cs.CustomKeyStoreId, NewCustomKeyStoreName: "s2"}); err != nil {
				return err
			}
			if _, err := c.ConnectCustomKeyStore(ctx, in); err != nil {
				return err
			}
			d, err := c.DescribeCustomKeyStores(ctx, &api.DescribeCustomKeyStoresInput{})
			if err != nil || len(d.CustomKeyStores) != 1 || d.CustomKeyStores[0].ConnectionState != api.ConnectionFailed || d.CustomKeyStores[0].CustomKeyStoreName != "s2" {
				return fmt.Errorf("describe %+v: %v", d, err)
			}
			if _, err := c.DisconnectCustomKeyStore(ctx, in); err != nil {
				return err
			}
			_, err = c.DeleteCustomKeyStore(ctx, in)
			return err
		}},
		{"CreateAccessKey/ListAccessKeys/DeleteAccessKey", func() error {
			k, err := c.CreateAccessKey(ctx, &api.CreateAccessKeyInput{Principal: "uid:1000"})
			if err != nil {
				return err
			}
			if len(k.AccessKey.SecretAccessKey) != 40 || k.AccessKey.UserName != "uid:1000" {
				return fmt.Errorf("access key %+v", k.AccessKey.AccessKeyId)
			}
			l, err := c.ListAccessKeys(ctx, &api.ListAccessKeysInput{})
			if err != nil || len(l.AccessKeyMetadata) != 1 || l.AccessKeyMetadata[0].AccessKeyId != k.AccessKey.AccessKeyId {
				return fmt.Errorf("list %+v: %v", l, err)
			}
			_, err = c.DeleteAccessKey(ctx, &api.DeleteAccessKeyInput{AccessKeyId: k.AccessKey.AccessKeyId})
			return err
		}},
		{"DisableKey", func() error { _, err := c.DisableKey(ctx, &api.KeyIDInput{KeyId: id}); return err }},
		{"EnableKey", func() error { _, err := c.EnableKey(ctx, &api.KeyIDInput{KeyId: id}); return err }},
		{"DeleteAlias", func() error { _, err := c.DeleteAlias(ctx, &api.DeleteAliasInput{AliasName: "alias/a"}); return err }},
		{"ScheduleKeyDeletion", func() error {
			o, err := c.ScheduleKeyDeletion(ctx, &api.ScheduleKeyDeletionInput{KeyId: id, PendingWindowInDays: api.Int32(7)})
			if err == nil && o.KeyState != api.KeyStatePendingDeletion {
				err = errors.New(o.KeyState)
			}
			return err
		}},
		{"CancelKeyDeletion", func() error { _, err := c.CancelKeyDeletion(ctx, &api.KeyIDInput{KeyId: id}); return err }},
		{"Status", func() error {
			o, err := c.Status(ctx, &api.StatusInput{})
			if err == nil && (o.KeyCount != 5 || o.Requests == 0 || o.Workers == 0) { // the key, the EXTERNAL one, the signing, MAC and ECDH keys
				err = fmt.Errorf("status %+v", o)
			}
			return err
		}},
	}
	covered := map[string]bool{api.OpHello: true, api.OpCreateKey: true}
	for _, s := range steps {
		if err := s.f(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		for _, n := range bytes.Split([]byte(s.name), []byte("/")) {
			covered[string(n)] = true
		}
	}
	for _, op := range api.Ops() {
		if !covered[op.Name] {
			t.Errorf("%s not exercised over the socket", op.Name)
		}
		if op.Name != api.OpHello && op.Name != api.OpStatus && !ts.srv.Serves(op.Name) {
			t.Errorf("%s has no handler", op.Name)
		}
	}
	// Errors come back as *api.Error with the service's code.
	_, err = c.DescribeKey(ctx, &api.DescribeKeyInput{KeyId: "alias/none"})
	var we *api.Error
	if !errors.As(err, &we) || we.Code != api.CodeNotFound {
		t.Fatalf("error %v", err)
	}
}

func TestBatchOverTheSocket(t *testing.T) {
	ts := startServer(t)
	c := dial(t, ts.sock)
	id := newKey(t, c)
	items := make([]*api.EncryptInput, 1000)
	for i := range items {
		items[i] = &api.EncryptInput{KeyId: id, Plaintext: []byte(fmt.Sprintf("item %d", i))}
	}
	items[500].KeyId = "alias/none" // one bad item does not spoil the batch
	res, err := c.EncryptBatch(ctx, items)
	if err != nil || len(res) != 1000 {
		t.Fatalf("%d results, %v", len(res), err)
	}
	var dec []*api.DecryptInput
	for i, r := range res {
		if i == 500 {
			if api.CodeOf(r.Err) != api.CodeNotFound {
				t.Fatalf("item 500: %v", r.Err)
			}
			continue
		}
		if r.Err != nil {
			t.Fatalf("item %d: %v", i, r.Err)
		}
		dec = append(dec, &api.DecryptInput{CiphertextBlob: r.Out.CiphertextBlob})
	}
	back, err := c.DecryptBatch(ctx, dec)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range back {
		want := i
		if i >= 500 {
			want = i + 1
		}
		if r.Err != nil || string(r.Out.Plaintext) != fmt.Sprintf("item %d", want) {
			t.Fatalf("decrypted item %d: %v %q", i, r.Err, r.Out)
		}
	}
	st, _ := c.Status(ctx, &api.StatusInput{})
	if st.BatchRequests < 2 {
		t.Fatalf("%d batch frames", st.BatchRequests)
	}
}

// TestCoalescingAndNoCrossedResponses runs 64 concurrent callers on one
// client: every answer is the caller's own, and the client sent batch
// frames.
func TestCoalescingAndNoCrossedResponses(t *testing.T) {
	ts := startServer(t)
	c := dial(t, ts.sock)
	id := newKey(t, c)
	concurrentCallers(t, c, id)
	st, _ := c.Status(ctx, &api.StatusInput{})
	if st.Requests < 12800 || st.BatchRequests == 0 {
		t.Fatalf("%d requests in %d batch frames: no coalescing", st.Requests, st.BatchRequests)
	}
	t.Logf("%d requests, %d batch frames", st.Requests, st.BatchRequests)
}

// concurrentCallers has 64 goroutines each Encrypt and Decrypt 100
// messages of their own under key id on c at once, and fails t unless
// every caller gets back its own plaintext.
func concurrentCallers(t *testing.T, c *client.Client, id string) {
	t.Helper()
	callers(t, 64, func(g int) error {
		for i := range 100 {
			pt := fmt.Sprintf("caller %d message %d", g, i)
			if err := roundTrip(c, id, pt, map[string]string{"g": fmt.Sprint(g)}); err != nil {
				return fmt.Errorf("caller %d: %w", g, err)
			}
		}
		return nil
	})
}

// callers runs f(0) to f(n-1) at once and fails t with their errors.
func callers(t *testing.T, n int, f func(g int) error) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for g := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(g); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// TestBatchesAmongCoalescedCalls: explicit batches (frames the client
// writes as they are, between its coalesced calls, in one vectored write)
// and concurrent single calls (held in the client's window, then shared
// in frames) on one connection: every answer reaches its caller, and
// every batch item its own.
func TestBatchesAmongCoalescedCalls(t *testing.T) {
	ts := startServer(t)
	c := dial(t, ts.sock)
	id := newKey(t, c)
	callers(t, 32, func(g int) error {
		for i := range 30 {
			ec := map[string]string{"g": fmt.Sprint(g)}
			if (g+i)%3 != 0 {
				if err := roundTrip(c, id, fmt.Sprintf("caller %d single %d", g, i), ec); err != nil {
					return err
				}
				continue
			}
			n := 1 + (g*7+i)%40
			ins := make([]*api.EncryptInput, n)
			for k := range ins {
				ins[k] = &api.EncryptInput{KeyId: id, Plaintext: []byte(fmt.Sprintf("caller %d batch %d item %d", g, i, k)), EncryptionContext: ec}
			}
			enc, err := c.EncryptBatch(ctx, ins)
			if err != nil {
				return err
			}
			dins := make([]*api.DecryptInput, n)
			for k, r := range enc {
				if r.Err != nil {
					return r.Err
				}
				dins[k] = &api.DecryptInput{CiphertextBlob: r.Out.CiphertextBlob, EncryptionContext: ec}
			}
			dec, err := c.DecryptBatch(ctx, dins)
			client.Release(enc) // its buffers go to later answers, other callers' too
			if err != nil {
				return err
			}
			for k, r := range dec {
				if r.Err != nil || string(r.Out.Plaintext) != string(ins[k].Plaintext) {
					return fmt.Errorf("caller %d batch %d item %d: %v", g, i, k, r.Err)
				}
			}
			client.Release(dec)
		}
		return nil
	})
}

// TestReleaseWipesBatchAnswers: Release wipes the buffer a batch's
// plaintexts were read into and takes the results' outputs away, at once
// and once (a second Release does nothing), and the batches after it,
// read into the buffers it gave back, are whole.
func TestReleaseWipesBatchAnswers(t *testing.T) {
	ts := startServer(t)
	c := dial(t, ts.sock)
	id := newKey(t, c)
	// 600 items of 64 bytes: answers well past wire.BigFrame, in frames
	// whose buffers the results keep.
	ins := make([]*api.EncryptInput, 600)
	for i := range ins {
		ins[i] = &api.EncryptInput{KeyId: id, Plaintext: bytes.Repeat([]byte{byte(i%250 + 1)}, 64)}
	}
	enc, err := c.EncryptBatch(ctx, ins)
	if err != nil {
		t.Fatal(err)
	}
	dins := make([]*api.DecryptInput, len(enc))
	for i, r := range enc {
		if r.Err != nil {
			t.Fatalf("item %d: %v", i, r.Err)
		}
		dins[i] = &api.DecryptInput{CiphertextBlob: bytes.Clone(r.Out.CiphertextBlob)}
	}
	client.Release(enc)
	for round := range 3 {
		dec, err := c.DecryptBatch(ctx, dins)
		if err != nil {
			t.Fatal(err)
		}
		var pts [][]byte
		for i, r := range dec {
			if r.Err != nil || !bytes.Equal(r.Out.Plaintext, ins[i].Plaintext) {
				t.Fatalf("round %d item %d: %v", round, i, r.Err)
			}
			pts = append(pts, r.Out.Plaintext)
		}
		client.Release(dec)
		for i, pt := range pts {
			if !bytes.Equal(pt, make([]byte, len(pt))) {
				t.Fatalf("round %d: item %d's plaintext is still in memory after Release", round, i)
			}
			if dec[i].Out != nil {
				t.Fatalf("round %d: item %d keeps its output after Release", round, i)
			}
		}
		client.Release(dec)
	}
}

// roundTrip encrypts pt under id with ec and decrypts it back, and says
// what went wrong if it did not come back whole.
func roundTrip(c *client.Client, id, pt string, ec map[string]string) error {
	e, err := c.Encrypt(ctx, &api.EncryptInput{KeyId: id, Plaintext: []byte(pt), EncryptionContext: ec})
	if err != nil {
		return fmt.Errorf("encrypting %q: %w", pt, err)
	}
	d, err := c.Decrypt(ctx, &api.DecryptInput{CiphertextBlob: e.CiphertextBlob, EncryptionContext: ec})
	if err != nil {
		return fmt.Errorf("decrypting %q: %w", pt, err)
	}
	if string(d.Plaintext) != pt {
		return fmt.Errorf("%q came back as %q", pt, d.Plaintext)
	}
	return nil
}

func TestClientReconnectsAfterRestart(t *testing.T) {
	dir := testkit.ShortDir(t)
	state, sock := filepath.Join(dir, "state"), filepath.Join(dir, "s")
	start := func() (*daemon.Server, *kms.Service, chan error) {
		svc := dirService(t, state)
		ln, err := socket.Listen(socket.ListenConfig{Path: sock})
		if err != nil {
			t.Fatal(err)
		}
		srv := daemon.NewServer(daemon.Config{Service: svc})
		done := make(chan error, 1)
		go func() { done <- srv.Serve(ln) }()
		return srv, svc, done
	}
	srv, svc, done := start()
	c := dial(t, sock)
	id := newKey(t, c)
	blob, err := c.Encrypt(ctx, &api.EncryptInput{KeyId: id, Plaintext: []byte("x")})
	if err != nil {
		t.Fatal(err)
	}
	srv.Shutdown(ctx)
	<-done
	svc.Close()
	srv, svc, done = start()
	defer func() { srv.Shutdown(ctx); <-done; svc.Close() }()
	d, err := c.Decrypt(ctx, &api.DecryptInput{CiphertextBlob: blob.CiphertextBlob})
	if err != nil || string(d.Plaintext) != "x" {
		t.Fatalf("after restart: %v", err)
	}
}

func TestShutdownAnswersInFlight(t *testing.T) {
	ts := startServer(t, func(c *daemon.Config) { c.Workers = 1 })
	c := dial(t, ts.sock)
	id := newKey(t, c)
	// One raw frame of 800 x 4 KiB (the client would cut it into several,
	// some of which might not have been read when kmsd stops).
	items := make([]api.Message, 800)
	for i := range items {
		items[i] = &api.EncryptInput{KeyId: id, Plaintext: make([]byte, 4096)}
	}
	frame, err := wire.AppendBatchRequest(nil, 9, api.OpEncrypt, items)
	if err != nil {
		t.Fatal(err)
	}
	raw := rawDial(t, ts.sock, true)
	raw.send(frame)
	// Shut down while the batch is being worked on.
	for {
		st, err := c.Status(ctx, &api.StatusInput{})
		if err != nil {
			t.Fatal(err)
		}
		if st.BatchRequests > 0 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	stopped := make(chan struct{})
	go func() { ts.stop(t); close(stopped) }()
	resp, err := raw.read(api.OpEncrypt)
	if err != nil || resp.Err != nil || len(resp.Items) != len(items) {
		t.Fatalf("in-flight batch not answered before shutdown: %v %v", err, resp)
	}
	for i, it := range resp.Items {
		if it.Err != nil {
			t.Fatalf("item %d: %v", i, it.Err)
		}
	}
	<-stopped
}

func TestServeAfterShutdown(t *testing.T) {
	ts := startServer(t)
	srv := ts.srv
	ts.stop(t)
	ln, err := net.Listen("unix", filepath.Join(testkit.ShortDir(t), "x"))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if err := srv.Serve(ln); err == nil {
		t.Fatal("serve after shutdown")
	}
}

// TestListenWhereOthersCannotSwapIt: kmsd refuses to make its socket in a
// directory every user may write unless it is sticky; it leaves no
// private directory behind; closing removes the socket it made, but not a
// file put at its path since; a symlink at the path is not followed.
func TestListenWhereOthersCannotSwapIt(t *testing.T) {
	dir := testkit.ShortDir(t)
	open := filepath.Join(dir, "open")
	os.Mkdir(open, 0o777)
	os.Chmod(open, 0o777)
	if _, err := socket.Listen(socket.ListenConfig{Path: filepath.Join(open, "s")}); err == nil || !strings.Contains(err.Error(), "not sticky") {
		t.Fatalf("a socket in a world-writable directory: %v", err)
	}
	sticky := filepath.Join(dir, "sticky")
	os.Mkdir(sticky, 0o777)
	os.Chmod(sticky, 0o777|os.ModeSticky)
	sock := filepath.Join(sticky, "s")
	ln, err := socket.Listen(socket.ListenConfig{Path: sock, Mode: 0o666})
	if err != nil {
		t.Fatalf("a socket in a sticky directory: %v", err)
	}
	if st, err := os.Lstat(sock); err != nil || st.Mode().Perm() != 0o666 || st.Mode()&os.ModeSocket == 0 {
		t.Fatalf("the socket: %v %v", st, err)
	}
	if left, _ := filepath.Glob(filepath.Join(sticky, ".kmsd-socket-*")); len(left) != 0 {
		t.Fatalf("left behind: %v", left)
	}
	ln.Close()
	if _, err := os.Lstat(sock); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the socket outlived its listener: %v", err)
	}
	// A file put at the path after kmsd made its socket is not removed.
	ln, _ = socket.Listen(socket.ListenConfig{Path: sock})
	os.Remove(sock)
	os.WriteFile(sock, []byte("someone else's"), 0o600)
	ln.Close()
	if b, _ := os.ReadFile(sock); string(b) != "someone else's" {
		t.Fatal("closing removed a file kmsd did not make")
	}
	// A symlink at the path is neither followed nor replaced.
	target := filepath.Join(dir, "root-only")
	os.WriteFile(target, []byte("secret"), 0o600)
	link := filepath.Join(sticky, "link")
	os.Symlink(target, link)
	if _, err := socket.Listen(socket.ListenConfig{Path: link, Mode: 0o666}); err == nil {
		t.Fatal("made a socket over a symlink")
	}
	if st, _ := os.Stat(target); st.Mode().Perm() != 0o600 {
		t.Fatalf("the symlink's target is now %v", st.Mode())
	}
}

func createSpecKey(c *client.Client, spec, usage string) (string, error) {
	o, err := c.CreateKey(ctx, &api.CreateKeyInput{KeySpec: spec, KeyUsage: usage})
	if err != nil {
		return "", err
	}
	return o.KeyMetadata.KeyId, nil
}

// signOverSocket signs one message and a batch, verifies them, and checks
// the signatures with the public key alone.
func signOverSocket(c *client.Client) error {
	id, err := createSpecKey(c, "ECC_NIST_P256", api.KeyUsageSignVerify)
	if err != nil {
		return err
	}
	msg := []byte("over the socket")
	s, err := c.Sign(ctx, &api.SignInput{KeyId: id, Message: msg, SigningAlgorithm: "ECDSA_SHA_256"})
	if err != nil {
		return err
	}
	pk, err := c.GetPublicKey(ctx, &api.GetPublicKeyInput{KeyId: id})
	if err != nil {
		return err
	}
	pub, err := x509.ParsePKIXPublicKey(pk.PublicKey)
	if err != nil || !slices.Equal(pk.SigningAlgorithms, []string{"ECDSA_SHA_256"}) {
		return fmt.Errorf("public key %+v: %v", pk, err)
	}
	d := sha256.Sum256(msg)
	if !ecdsa.VerifyASN1(pub.(*ecdsa.PublicKey), d[:], s.Signature) {
		return errors.New("crypto/ecdsa does not verify the signature")
	}
	items := []*api.SignInput{{KeyId: id, Message: []byte("a"), SigningAlgorithm: "ECDSA_SHA_256"},
		{KeyId: id, Message: []byte("b"), SigningAlgorithm: "ECDSA_SHA_384"}}
	rs, err := c.SignBatch(ctx, items)
	if err != nil || rs[0].Err != nil || api.CodeOf(rs[1].Err) != api.CodeInvalidKeyUsage {
		return fmt.Errorf("sign batch %+v %v", rs, err)
	}
	vs, err := c.VerifyBatch(ctx, []*api.VerifyInput{
		{KeyId: id, Message: []byte("a"), Signature: rs[0].Out.Signature, SigningAlgorithm: "ECDSA_SHA_256"},
		{KeyId: id, Message: []byte("b"), Signature: rs[0].Out.Signature, SigningAlgorithm: "ECDSA_SHA_256"}})
	if err != nil || vs[0].Err != nil || !vs[0].Out.SignatureValid || api.CodeOf(vs[1].Err) != api.CodeInvalidSignature {
		return fmt.Errorf("verify batch %+v %v", vs, err)
	}
	v, err := c.Verify(ctx, &api.VerifyInput{KeyId: id, Message: msg, Signature: s.Signature, SigningAlgorithm: "ECDSA_SHA_256"})
	if err != nil || !v.SignatureValid {
		return fmt.Errorf("verify %+v %v", v, err)
	}
	return nil
}

func macOverSocket(c *client.Client) error {
	id, err := createSpecKey(c, "HMAC_256", api.KeyUsageMAC)
	if err != nil {
		return err
	}
	rs, err := c.GenerateMacBatch(ctx, []*api.GenerateMacInput{{KeyId: id, Message: []byte("a"), MacAlgorithm: "HMAC_SHA_256"},
		{KeyId: id, Message: []byte("a"), MacAlgorithm: "HMAC_SHA_512"}})
	if err != nil || rs[0].Err != nil || len(rs[0].Out.Mac) != 32 || api.CodeOf(rs[1].Err) != api.CodeInvalidKeyUsage {
		return fmt.Errorf("mac batch %+v %v", rs, err)
	}
	v, err := c.VerifyMac(ctx, &api.VerifyMacInput{KeyId: id, Message: []byte("a"), Mac: rs[0].Out.Mac, MacAlgorithm: "HMAC_SHA_256"})
	if err != nil || !v.MacValid {
		return fmt.Errorf("verify mac %+v %v", v, err)
	}
	_, err = c.VerifyMac(ctx, &api.VerifyMacInput{KeyId: id, Message: []byte("b"), Mac: rs[0].Out.Mac, MacAlgorithm: "HMAC_SHA_256"})
	if api.CodeOf(err) != api.CodeInvalidMac {
		return fmt.Errorf("another message's MAC: %v", err)
	}
	return nil
}

func agreeOverSocket(c *client.Client) error {
	id, err := createSpecKey(c, "ECC_NIST_P256", api.KeyUsageKeyAgreement)
	if err != nil {
		return err
	}
	peer, _ := ecdh.P256().GenerateKey(rand.Reader)
	der, _ := x509.MarshalPKIXPublicKey(peer.PublicKey())
	o, err := c.DeriveSharedSecret(ctx, &api.DeriveSharedSecretInput{KeyId: id, KeyAgreementAlgorithm: "ECDH", PublicKey: der})
	if err != nil {
		return err
	}
	pk, err := c.GetPublicKey(ctx, &api.GetPublicKeyInput{KeyId: id})
	if err != nil {
		return err
	}
	pub, _ := x509.ParsePKIXPublicKey(pk.PublicKey)
	ours, _ := pub.(*ecdsa.PublicKey).ECDH()
	want, _ := peer.ECDH(ours)
	if !bytes.Equal(o.SharedSecret, want) {
		return errors.New("the shared secret is not the peer's")
	}
	return nil
}
