package daemon_test

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"kmsd/daemon/socket"
	"kmsd/internal/ci"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"kmsd/daemon"
	"kmsd/daemon/audit"
	"kmsd/internal/testkit"
	"kmsd/keystore"
	"kmsd/wire/api"
)

// auditRecords reads every record of a trail.
func auditRecords(t *testing.T, dir string) []map[string]any {
	t.Helper()
	files, _ := audit.Files(dir)
	var out []map[string]any
	for _, f := range files {
		fh, _ := os.Open(f)
		sc := bufio.NewScanner(fh)
		sc.Buffer(nil, audit.MaxLine)
		for sc.Scan() {
			var m map[string]any
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			out = append(out, m)
		}
		fh.Close()
	}
	return out
}

// TestAuditRecordsEveryRequestWithoutSecrets runs every operation (and
// batches, denials, errors) with known secret bytes, then checks that each
// request has its record and that no audit file holds a secret, raw, in
// base64 or in hex.
func TestAuditRecordsEveryRequestWithoutSecrets(t *testing.T) {
	ts := startServer(t)
	c := dial(t, ts.sock)
	var secrets [][]byte
	secret := func(n int) []byte {
		b := make([]byte, n)
		rand.Read(b)
		secrets = append(secrets, b)
		return b
	}
	id := newKey(t, c)
	c.CreateAlias(ctx, &api.AliasInput{AliasName: "alias/audited", TargetKeyId: id})
	ec := map[string]string{"purpose": "audit-test"}
	pt := secret(48)
	enc, err := c.Encrypt(ctx, &api.EncryptInput{KeyId: "alias/audited", Plaintext: pt, EncryptionContext: ec})
	if err != nil {
		t.Fatal(err)
	}
	secrets = append(secrets, enc.CiphertextBlob)
	dec, _ := c.Decrypt(ctx, &api.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: ec})
	secrets = append(secrets, dec.Plaintext)
	re, _ := c.ReEncrypt(ctx, &api.ReEncryptInput{CiphertextBlob: enc.CiphertextBlob, SourceEncryptionContext: ec,
		DestinationKeyId: id, DestinationEncryptionContext: map[string]string{"purpose": "moved"}})
	secrets = append(secrets, re.CiphertextBlob)
	dk, _ := c.GenerateDataKey(ctx, &api.GenerateDataKeyInput{KeyId: id, KeySpec: "AES_256", EncryptionContext: ec})
	secrets = append(secrets, dk.Plaintext, dk.CiphertextBlob)
	wp, _ := c.GenerateDataKeyWithoutPlaintext(ctx, &api.GenerateDataKeyInput{KeyId: id, NumberOfBytes: api.Int32(24)})
	secrets = append(secrets, wp.CiphertextBlob)
	rnd, _ := c.GenerateRandom(ctx, &api.GenerateRandomInput{NumberOfBytes: api.Int32(32)})
	secrets = append(secrets, rnd.Plaintext)
	batch := []*api.EncryptInput{{KeyId: id, Plaintext: secret(20)}, {KeyId: "alias/none", Plaintext: secret(20)}, {KeyId: id, Plaintext: secret(20)}}
	bres, err := c.EncryptBatch(ctx, batch)
	if err != nil {
		t.Fatal(err)
	}
	secrets = append(secrets, bres[0].Out.CiphertextBlob, bres[2].Out.CiphertextBlob)
	// Failures are recorded too.
	c.Decrypt(ctx, &api.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: map[string]string{"purpose": "wrong"}})
	c.Encrypt(ctx, &api.EncryptInput{KeyId: "alias/none", Plaintext: secret(16)})
	c.RotateKeyOnDemand(ctx, &api.KeyIDInput{KeyId: id})
	c.Status(ctx, &api.StatusInput{})
	secrets = append(secrets, rootKey)
	dir := ts.srv.AuditDir()
	ts.stop(t)

	files, _ := audit.Files(dir)
	for _, f := range files {
		b, _ := os.ReadFile(f)
		for i, s := range secrets {
			for _, form := range [][]byte{s, []byte(base64.StdEncoding.EncodeToString(s)), []byte(hex.EncodeToString(s)), s[:min(12, len(s))]} {
				if bytes.Contains(b, form) {
					t.Fatalf("%s holds secret %d", f, i)
				}
			}
		}
	}

	recs := auditRecords(t, dir)
	byEvent := map[string][]map[string]any{}
	for _, r := range recs {
		if r["type"] == "call" {
			byEvent[r["event"].(string)] = append(byEvent[r["event"].(string)], r)
		}
	}
	for _, op := range []string{"Hello", "CreateKey", "CreateAlias", "Encrypt", "Decrypt", "ReEncrypt", "GenerateDataKey",
		"GenerateDataKeyWithoutPlaintext", "GenerateRandom", "RotateKeyOnDemand", "Status"} {
		if len(byEvent[op]) == 0 {
			t.Errorf("no record of %s", op)
		}
	}
	e := byEvent["Encrypt"][0]
	if e["key_id"] != id || e["alias"] != "alias/audited" || e["in_bytes"].(float64) != 48 || e["out_bytes"].(float64) != float64(len(enc.CiphertextBlob)) ||
		e["context"].(map[string]any)["purpose"] != "audit-test" || e["source"] != "socket" || e["caller"].(map[string]any)["uid"].(float64) != float64(os.Getuid()) {
		t.Errorf("Encrypt record %v", e)
	}
	if r := byEvent["ReEncrypt"][0]; r["source_key_id"] != id || r["destination_context"] == nil {
		t.Errorf("ReEncrypt record %v", r)
	}
	// One record per single request (2), and per group of the batch's
	// items alike in key, context and outcome: items 0 and 2 succeeded
	// under the key, item 1's key did not resolve.
	if n := len(byEvent["Encrypt"]); n != 4 {
		t.Errorf("%d Encrypt records", n)
	}
	var ok, bad map[string]any
	for _, r := range byEvent["Encrypt"] {
		switch {
		case r["items"] == nil:
		case r["error"] == nil:
			ok = r
		default:
			bad = r
		}
	}
	if ok["items"] != 2.0 || ok["key_id"] != id || ok["in_bytes"] != 40.0 || ok["failed"] != nil || ok["request_id"] == nil {
		t.Errorf("the batch's success record %v", ok)
	}
	if bad["items"] != 1.0 || bad["error"] != "NotFoundException" || bad["alias"] != "alias/none" || bad["key_id"] != nil ||
		bad["request_id"] != ok["request_id"] || !reflect.DeepEqual(bad["failed"], []any{1.0}) {
		t.Errorf("the batch's failure record %v", bad)
	}
	var errs []string
	for _, r := range recs {
		if s, ok := r["error"].(string); ok {
			errs = append(errs, s)
		}
	}
	if !strings.Contains(strings.Join(errs, ","), "InvalidCiphertextException") || strings.Count(strings.Join(errs, ","), "NotFoundException") < 2 {
		t.Errorf("errors recorded: %v", errs)
	}
	r, err := audit.Verify(files, audit.VerifyOptions{})
	if err != nil || r.Problem != nil {
		t.Fatalf("trail: %v %v", err, r.Problem)
	}
}

// TestLargeBatchRecordsGroups: a batch larger than a chunk (each chunk
// answered by a worker with groups of its own) is still recorded as one
// record per group of items alike: 500 items (one frame, four chunks)
// with separate but equal contexts, one failing, are two records, with
// every item counted.
func TestLargeBatchRecordsGroups(t *testing.T) {
	ts := startServer(t)
	c := dial(t, ts.sock)
	id := newKey(t, c)
	batch := make([]*api.EncryptInput, 500)
	for i := range batch {
		batch[i] = &api.EncryptInput{KeyId: id, Plaintext: []byte("x"), EncryptionContext: map[string]string{"tenant": "a"}}
	}
	batch[300].KeyId = "alias/none"
	if _, err := c.EncryptBatch(ctx, batch); err != nil {
		t.Fatal(err)
	}
	dir := ts.srv.AuditDir()
	ts.stop(t)
	var got []map[string]any
	for _, r := range auditRecords(t, dir) {
		if r["event"] == "Encrypt" {
			got = append(got, r)
		}
	}
	if len(got) != 2 {
		t.Fatalf("%d records of the batch, want 2: %v", len(got), got)
	}
	ok, bad := got[0], got[1]
	if ok["error"] != nil {
		ok, bad = bad, ok
	}
	if ok["items"] != 499.0 || ok["key_id"] != id || ok["in_bytes"] != 499.0 || ok["context"].(map[string]any)["tenant"] != "a" {
		t.Errorf("success record %v", ok)
	}
	if bad["items"] != 1.0 || !reflect.DeepEqual(bad["failed"], []any{300.0}) {
		t.Errorf("failure record %v", bad)
	}
}

// TestAuditFailsClosedOnAFullDisk puts the trail on a small tmpfs, fills
// it, and checks that requests are refused (not answered unaudited) and
// that service resumes by itself once space is free.
func TestAuditFailsClosedOnAFullDisk(t *testing.T) {
	if os.Geteuid() != 0 {
		ci.Skip(t, "needs root to mount a tmpfs")
	}
	mnt := testkit.ShortDir(t)
	if err := syscall.Mount("tmpfs", mnt, "tmpfs", 0, "size=256k"); err != nil {
		ci.Skipf(t, "mount tmpfs: %v", err)
	}
	t.Cleanup(func() { syscall.Unmount(mnt, syscall.MNT_DETACH) })
	dir := testkit.ShortDir(t)
	svc := memService(t)
	defer svc.Close()
	aw := openAudit(t, svc, filepath.Join(mnt, "audit"), func(c *audit.Config) { c.RetryEvery = 50 * time.Millisecond })
	sock := filepath.Join(dir, "s")
	ln, err := socket.Listen(socket.ListenConfig{Path: sock})
	if err != nil {
		t.Fatal(err)
	}
	srv := daemon.NewServer(daemon.Config{Service: svc, Audit: aw, CPU: keystore.DetectCPU()})
	go srv.Serve(ln)
	defer func() { srv.Shutdown(ctx); aw.Close() }()
	c := dial(t, sock)
	id := newKey(t, c)
	encrypt := func() error {
		_, err := c.Encrypt(ctx, &api.EncryptInput{KeyId: id, Plaintext: []byte("x")})
		return err
	}
	if err := encrypt(); err != nil {
		t.Fatal(err)
	}
	// Fill the filesystem.
	filler := filepath.Join(mnt, "filler")
	f, _ := os.Create(filler)
	f.Write(make([]byte, 1<<20))
	f.Close()
	var refused error
	for range 50 {
		if refused = encrypt(); refused != nil {
			break
		}
	}
	if api.CodeOf(refused) != api.CodeInternal || !strings.Contains(refused.Error(), "audit trail") {
		t.Fatalf("full disk: %v", refused)
	}
	// While the trail is down, nothing is done: a key made now must not exist.
	before := svc.KeyCount()
	if _, err := c.CreateKey(ctx, &api.CreateKeyInput{}); err == nil {
		t.Fatal("CreateKey answered while the trail was down")
	}
	if svc.KeyCount() != before {
		t.Fatal("CreateKey was carried out while the trail could not record it")
	}
	if st, _ := c.Status(ctx, &api.StatusInput{}); st != nil {
		t.Fatalf("status answered unaudited: %+v", st)
	}
	// Free the space: service resumes by itself.
	os.Remove(filler)
	deadline := time.Now().Add(10 * time.Second)
	for encrypt() != nil {
		if time.Now().After(deadline) {
			t.Fatal("service did not resume")
		}
		time.Sleep(20 * time.Millisecond)
	}
	aw.Close()
	files, _ := audit.Files(filepath.Join(mnt, "audit"))
	r, err := audit.Verify(files, audit.VerifyOptions{CheckMAC: aw.CheckMAC})
	if err != nil || r.Problem != nil {
		t.Fatalf("trail after the outage: %v %v", err, r.Problem)
	}
	b, _ := os.ReadFile(files[len(files)-1])
	if !bytes.Contains(b, []byte(`"event":"AuditResumed"`)) {
		t.Fatal("no AuditResumed record")
	}
	t.Logf("%d records, intact after the outage", r.Records)
}

// TestManagementRecordsNameWhatChanged: every management record names
// what it created or changed: the new key's id, the alias, the grant's
// id, grantee, operations and constraints, the policy's digest; a
// description too long to record whole is recorded by its digest; a
// grant token never appears.
func TestManagementRecordsNameWhatChanged(t *testing.T) {
	ts := startServer(t)
	c := dial(t, ts.sock)
	long := strings.Repeat("d", 3000)
	k, err := c.CreateKey(ctx, &api.CreateKeyInput{Description: long, Tags: []api.Tag{{TagKey: "team", TagValue: "a"}}})
	if err != nil {
		t.Fatal(err)
	}
	id := k.KeyMetadata.KeyId
	c.CreateAlias(ctx, &api.AliasInput{AliasName: "alias/rec", TargetKeyId: id})
	g, err := c.CreateGrant(ctx, &api.CreateGrantInput{KeyId: id, GranteePrincipal: "uid:1000", Operations: []string{"Encrypt", "Decrypt"},
		Constraints: api.GrantConstraints{EncryptionContextEquals: map[string]string{"tenant": "a"}}})
	if err != nil {
		t.Fatal(err)
	}
	pol, _ := c.GetKeyPolicy(ctx, &api.GetKeyPolicyInput{KeyId: id, PolicyName: "default"})
	if _, err := c.PutKeyPolicy(ctx, &api.PutKeyPolicyInput{KeyId: id, PolicyName: "default", Policy: pol.Policy}); err != nil {
		t.Fatal(err)
	}
	c.RetireGrant(ctx, &api.RetireGrantInput{GrantToken: g.GrantToken})
	c.DeleteAlias(ctx, &api.DeleteAliasInput{AliasName: "alias/rec"})
	dir := ts.srv.AuditDir()
	ts.stop(t)
	byEvent := map[string]map[string]any{}
	for _, r := range auditRecords(t, dir) {
		if e, _ := r["event"].(string); r["type"] == "call" {
			byEvent[e] = r
		}
	}
	sum := sha256.Sum256([]byte(long))
	polSum := sha256.Sum256([]byte(pol.Policy))
	for _, c := range []struct {
		event string
		want  map[string]any
	}{
		{"CreateKey", map[string]any{"key_id": id, "params.description": "sha256:" + hex.EncodeToString(sum[:]), "params.tag_keys": "team"}},
		{"CreateAlias", map[string]any{"key_id": id, "alias": "alias/rec", "params.target_key_id": id}},
		{"CreateGrant", map[string]any{"key_id": id, "params.grant_id": g.GrantId, "params.grantee_principal": "uid:1000",
			"params.operations": "Encrypt,Decrypt", "params.constraints": `{"EncryptionContextEquals":{"tenant":"a"}}`}},
		{"PutKeyPolicy", map[string]any{"key_id": id, "params.policy": "sha256:" + hex.EncodeToString(polSum[:]), "params.policy_name": "default"}},
		{"RetireGrant", map[string]any{"params.grant_id": g.GrantId}},
		{"DeleteAlias", map[string]any{"alias": "alias/rec"}},
	} {
		r := byEvent[c.event]
		if r == nil {
			t.Errorf("no %s record", c.event)
			continue
		}
		for k, want := range c.want {
			var got any = r[k]
			if p, ok := strings.CutPrefix(k, "params."); ok {
				got = nil
				if params, ok := r["params"].(map[string]any); ok {
					got = params[p]
				}
			}
			if got != want {
				t.Errorf("%s record: %s = %v, want %v (record %v)", c.event, k, got, want, r)
			}
		}
	}
	files, _ := audit.Files(dir)
	for _, f := range files {
		b, _ := os.ReadFile(f)
		if bytes.Contains(b, []byte(g.GrantToken)) || bytes.Contains(b, []byte(long)) {
			t.Errorf("%s holds the grant token or the long description", f)
		}
	}
}

// TestSigningRecordsTheDigest: Sign, Verify and GenerateMac records name
// the algorithm and the message by its SHA-256, never the message; a
// batch's items are recorded too.
func TestSigningRecordsTheDigest(t *testing.T) {
	ts := startServer(t)
	c := dial(t, ts.sock)
	k, err := c.CreateKey(ctx, &api.CreateKeyInput{KeySpec: "ECC_NIST_P256", KeyUsage: "SIGN_VERIFY"})
	if err != nil {
		t.Fatal(err)
	}
	m, err := c.CreateKey(ctx, &api.CreateKeyInput{KeySpec: "HMAC_256", KeyUsage: "GENERATE_VERIFY_MAC"})
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("a message the trail must not hold, 1234567890")
	s, err := c.Sign(ctx, &api.SignInput{KeyId: k.KeyMetadata.KeyId, Message: msg, SigningAlgorithm: "ECDSA_SHA_256"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Verify(ctx, &api.VerifyInput{KeyId: k.KeyMetadata.KeyId, Message: msg, Signature: s.Signature, SigningAlgorithm: "ECDSA_SHA_256"}); err != nil {
		t.Fatal(err)
	}
	mac, err := c.GenerateMac(ctx, &api.GenerateMacInput{KeyId: m.KeyMetadata.KeyId, Message: msg, MacAlgorithm: "HMAC_SHA_256"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.SignBatch(ctx, []*api.SignInput{{KeyId: k.KeyMetadata.KeyId, Message: msg, SigningAlgorithm: "ECDSA_SHA_256"}}); err != nil {
		t.Fatal(err)
	}
	dir := ts.srv.AuditDir()
	ts.stop(t)
	sum := sha256.Sum256(msg)
	digest := "sha256:" + hex.EncodeToString(sum[:])
	seen := map[string]int{}
	for _, r := range auditRecords(t, dir) {
		e, _ := r["event"].(string)
		if r["type"] != "call" || (e != "Sign" && e != "Verify" && e != "GenerateMac") {
			continue
		}
		seen[e]++
		p, _ := r["params"].(map[string]any)
		want := digest
		key := "message"
		if r["items"] != nil { // a batch's record: the digest of its items' digests
			s := sha256.Sum256(sum[:])
			want, key = "sha256:"+hex.EncodeToString(s[:]), "messages"
		}
		if p[key] != want || (p["signing_algorithm"] == nil && p["mac_algorithm"] == nil) {
			t.Errorf("%s record %v: want %s %s and the algorithm", e, r, key, want)
		}
	}
	if seen["Sign"] != 2 || seen["Verify"] != 1 || seen["GenerateMac"] != 1 {
		t.Errorf("records %v, want 2 Sign, 1 Verify, 1 GenerateMac", seen)
	}
	files, _ := audit.Files(dir)
	for _, f := range files {
		b, _ := os.ReadFile(f)
		for _, secret := range [][]byte{msg, s.Signature, mac.Mac} {
			if bytes.Contains(b, secret) {
				t.Errorf("%s holds the message, a signature or a MAC", f)
			}
		}
	}
}
