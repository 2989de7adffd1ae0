package kms

import (
	"context"
	"testing"

	"kmsd/wire/api"
)

// TestKeyTypeTable checks every cell of the key-type table of
// docs/authorization.md:
// who creates each type, and who can view, manage and use it.
func TestKeyTypeTable(t *testing.T) {
	s := authService(t, func(c *Config) { c.Quotas.Keys = 1 })
	const managed = "alias/managed/nginx.service"

	// customer-managed: any caller creates it with CreateKey; it counts against the quota.
	cust := keyOf(t, s, bob)
	md, _ := s.DescribeKey(bob, &api.DescribeKeyInput{KeyId: cust})
	if md.KeyMetadata.KeyManager != ManagerCustomer {
		t.Fatalf("customer key manager %q", md.KeyMetadata.KeyManager)
	}
	_, err := s.CreateKey(alice, &api.CreateKeyInput{})
	wantCode(t, err, api.CodeLimitExceeded)

	// service-managed: made for a unit on its first use of alias/managed/<unit>, by nobody else.
	for name, c := range map[string]context.Context{"another unit": backup, "root": ctx, "a user": bob} {
		_, err := s.Encrypt(c, &api.EncryptInput{KeyId: managed, Plaintext: []byte("x")})
		wantCode(t, err, api.CodeNotFound)
		if _, err := s.DescribeKey(ctx, &api.DescribeKeyInput{KeyId: managed}); api.CodeOf(err) != api.CodeNotFound {
			t.Fatalf("%s made the service key: %v", name, err)
		}
	}
	wantCode(t, s.CreateAlias(ctx, &api.AliasInput{AliasName: "alias/managed/nginx-service", TargetKeyId: cust}), api.CodeInvalidAliasName)
	enc, err := s.Encrypt(nginx, &api.EncryptInput{KeyId: managed, Plaintext: []byte("for nginx")})
	if err != nil {
		t.Fatalf("the unit's first use: %v", err)
	}
	svcMD, err := s.DescribeKey(bob, &api.DescribeKeyInput{KeyId: managed})
	if err != nil {
		t.Fatal(err)
	}
	svc := svcMD.KeyMetadata.KeyId
	if svcMD.KeyMetadata.KeyManager != ManagerService || svcMD.KeyMetadata.KeyState != api.KeyStateEnabled {
		t.Fatalf("service key %+v", svcMD.KeyMetadata)
	}
	if st, _ := s.GetKeyRotationStatus(bob, &api.KeyIDInput{KeyId: svc}); !st.KeyRotationEnabled || st.RotationPeriodInDays == nil || *st.RotationPeriodInDays != 365 {
		t.Fatalf("service key rotation %+v", st)
	}
	if again, _ := s.Encrypt(nginx, &api.EncryptInput{KeyId: managed, Plaintext: []byte("x")}); again.KeyId != enc.KeyId {
		t.Fatal("second use made a second key")
	}

	// daemon-owned: kmsd makes it for itself; the same one every time.
	own, err := s.DaemonKey("audit")
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := s.DaemonKey("audit"); again != own {
		t.Fatal("DaemonKey made a second key")
	}
	ownID := own.String()

	everyone := map[string]context.Context{"root": ctx, "creator": bob, "unit": nginx, "other": alice}
	view := func(c context.Context, id string) error {
		_, err := s.DescribeKey(c, &api.DescribeKeyInput{KeyId: id})
		return err
	}
	listed := func(c context.Context, id string) bool {
		l, _ := s.ListKeys(c, &api.ListKeysInput{})
		for _, k := range l.Keys {
			if k.KeyId == id {
				return true
			}
		}
		return false
	}
	manage := []struct {
		name string
		f    func(context.Context, string) error
	}{
		{"DisableKey", func(c context.Context, id string) error {
			err := s.DisableKey(c, &api.KeyIDInput{KeyId: id})
			if err == nil {
				err = s.EnableKey(c, &api.KeyIDInput{KeyId: id})
			}
			return err
		}},
		{"TagResource", func(c context.Context, id string) error {
			return s.TagResource(c, &api.TagResourceInput{KeyId: id, Tags: []api.Tag{{TagKey: "k", TagValue: "v"}}})
		}},
		{"PutKeyPolicy", func(c context.Context, id string) error {
			return s.PutKeyPolicy(c, &api.PutKeyPolicyInput{KeyId: id, Policy: `{"Statement":[{"Effect":"Allow","Principal":{"Kmsd":["uid:1001","uid:33"]},"Action":"kms:*","Resource":"*"}]}`})
		}},
		{"EnableKeyRotation", func(c context.Context, id string) error {
			return s.EnableKeyRotation(c, &api.EnableKeyRotationInput{KeyId: id, RotationPeriodInDays: api.Int32(90)})
		}},
		{"CreateGrant", func(c context.Context, id string) error {
			_, err := s.CreateGrant(c, &api.CreateGrantInput{KeyId: id, GranteePrincipal: "uid:5", Operations: []string{"Encrypt"}})
			return err
		}},
		{"CreateAlias", func(c context.Context, id string) error {
			return s.CreateAlias(c, &api.AliasInput{AliasName: "alias/to-" + id, TargetKeyId: id})
		}},
		{"ScheduleKeyDeletion", func(c context.Context, id string) error {
			_, err := s.ScheduleKeyDeletion(c, &api.ScheduleKeyDeletionInput{KeyId: id, PendingWindowInDays: api.Int32(7)})
			if err == nil {
				_, err = s.CancelKeyDeletion(c, &api.KeyIDInput{KeyId: id})
				s.EnableKey(ctx, &api.KeyIDInput{KeyId: id})
			}
			return err
		}},
	}
	use := func(c context.Context, id string) error {
		_, err := s.Encrypt(c, &api.EncryptInput{KeyId: id, Plaintext: []byte("x")})
		return err
	}

	t.Run("customer/view", func(t *testing.T) {
		for name, c := range map[string]context.Context{"root": ctx, "creator": bob} {
			if err := view(c, cust); err != nil || !listed(c, cust) {
				t.Errorf("%s: %v", name, err)
			}
		}
	})
	t.Run("customer/manage", func(t *testing.T) {
		for _, m := range manage {
			if err := m.f(bob, cust); err != nil {
				t.Errorf("creator %s: %v", m.name, err)
			}
		}
	})
	t.Run("customer/use per policy", func(t *testing.T) {
		wantCode(t, use(bob, cust), "")
		wantCode(t, use(alice, cust), api.CodeNotFound) // not in its policy
	})
	t.Run("service/view by anyone", func(t *testing.T) {
		for name, c := range everyone {
			if err := view(c, svc); err != nil || !listed(c, svc) {
				t.Errorf("%s: %v", name, err)
			}
			if _, err := s.GetKeyPolicy(c, &api.GetKeyPolicyInput{KeyId: svc}); err != nil {
				t.Errorf("%s GetKeyPolicy: %v", name, err)
			}
		}
	})
	t.Run("service/manage by nobody", func(t *testing.T) {
		for name, c := range everyone {
			for _, m := range manage {
				if err := m.f(c, svc); api.CodeOf(err) != api.CodeAccessDenied {
					t.Errorf("%s %s: %v", name, m.name, err)
				}
			}
		}
	})
	t.Run("service/use by its unit only", func(t *testing.T) {
		wantCode(t, use(nginx, svc), "")
		dec, err := s.Decrypt(nginx, &api.DecryptInput{CiphertextBlob: enc.CiphertextBlob})
		if err != nil || string(dec.Plaintext) != "for nginx" {
			t.Fatalf("unit decrypt: %v", err)
		}
		for name, c := range map[string]context.Context{"root": ctx, "other unit": backup, "user": bob} {
			wantCode(t, use(c, svc), api.CodeAccessDenied)
			_, err := s.Decrypt(c, &api.DecryptInput{CiphertextBlob: enc.CiphertextBlob})
			if api.CodeOf(err) != api.CodeAccessDenied {
				t.Errorf("%s decrypts the unit's data: %v", name, err)
			}
		}
	})
	t.Run("daemon/view by nobody", func(t *testing.T) {
		for name, c := range everyone {
			if err := view(c, ownID); api.CodeOf(err) != api.CodeNotFound || listed(c, ownID) {
				t.Errorf("%s sees the daemon key: %v", name, err)
			}
		}
		if n := s.VisibleKeyCount(ctx); n != 2 {
			t.Errorf("root counts %d keys", n)
		}
	})
	t.Run("daemon/manage by nobody", func(t *testing.T) {
		for name, c := range everyone {
			for _, m := range manage {
				if err := m.f(c, ownID); api.CodeOf(err) != api.CodeNotFound {
					t.Errorf("%s %s: %v", name, m.name, err)
				}
			}
		}
	})
	t.Run("daemon/use by nobody", func(t *testing.T) {
		forged := forgeBlob(t, ownID)
		for name, c := range everyone {
			if err := use(c, ownID); api.CodeOf(err) != api.CodeNotFound {
				t.Errorf("%s: %v", name, err)
			}
			if _, err := s.Decrypt(c, &api.DecryptInput{CiphertextBlob: forged}); api.CodeOf(err) != api.CodeNotFound {
				t.Errorf("%s decrypt: %v", name, err)
			}
		}
	})
}
