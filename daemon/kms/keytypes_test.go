package kms

import (
	"context"
	"testing"

	"kmsd/wire"
)

// TestKeyTypeTable checks every cell of DESIGN.md's key-type table:
// who creates each type, and who can view, manage and use it.
func TestKeyTypeTable(t *testing.T) {
	s := authService(t, func(c *Config) { c.Quotas.Keys = 1 })
	const managed = "alias/managed/nginx.service"

	// customer-managed: any caller creates it with CreateKey; it counts against the quota.
	cust := keyOf(t, s, bob)
	md, _ := s.DescribeKey(bob, &wire.DescribeKeyInput{KeyId: cust})
	if md.KeyMetadata.KeyManager != ManagerCustomer {
		t.Fatalf("customer key manager %q", md.KeyMetadata.KeyManager)
	}
	_, err := s.CreateKey(alice, &wire.CreateKeyInput{})
	wantCode(t, err, wire.CodeLimitExceeded)

	// service-managed: made for a unit on its first use of alias/managed/<unit>, by nobody else.
	for name, c := range map[string]context.Context{"another unit": backup, "root": ctx, "a user": bob} {
		_, err := s.Encrypt(c, &wire.EncryptInput{KeyId: managed, Plaintext: []byte("x")})
		wantCode(t, err, wire.CodeNotFound)
		if _, err := s.DescribeKey(ctx, &wire.DescribeKeyInput{KeyId: managed}); wire.CodeOf(err) != wire.CodeNotFound {
			t.Fatalf("%s made the service key: %v", name, err)
		}
	}
	wantCode(t, s.CreateAlias(ctx, &wire.AliasInput{AliasName: "alias/managed/nginx-service", TargetKeyId: cust}), wire.CodeInvalidAliasName)
	enc, err := s.Encrypt(nginx, &wire.EncryptInput{KeyId: managed, Plaintext: []byte("for nginx")})
	if err != nil {
		t.Fatalf("the unit's first use: %v", err)
	}
	svcMD, err := s.DescribeKey(bob, &wire.DescribeKeyInput{KeyId: managed})
	if err != nil {
		t.Fatal(err)
	}
	svc := svcMD.KeyMetadata.KeyId
	if svcMD.KeyMetadata.KeyManager != ManagerService || svcMD.KeyMetadata.KeyState != wire.KeyStateEnabled {
		t.Fatalf("service key %+v", svcMD.KeyMetadata)
	}
	if st, _ := s.GetKeyRotationStatus(bob, &wire.KeyIDInput{KeyId: svc}); !st.KeyRotationEnabled || st.RotationPeriodInDays != 365 {
		t.Fatalf("service key rotation %+v", st)
	}
	if again, _ := s.Encrypt(nginx, &wire.EncryptInput{KeyId: managed, Plaintext: []byte("x")}); again.KeyId != enc.KeyId {
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
		_, err := s.DescribeKey(c, &wire.DescribeKeyInput{KeyId: id})
		return err
	}
	listed := func(c context.Context, id string) bool {
		l, _ := s.ListKeys(c, &wire.ListKeysInput{})
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
			err := s.DisableKey(c, &wire.KeyIDInput{KeyId: id})
			if err == nil {
				err = s.EnableKey(c, &wire.KeyIDInput{KeyId: id})
			}
			return err
		}},
		{"TagResource", func(c context.Context, id string) error {
			return s.TagResource(c, &wire.TagResourceInput{KeyId: id, Tags: []wire.Tag{{TagKey: "k", TagValue: "v"}}})
		}},
		{"PutKeyPolicy", func(c context.Context, id string) error {
			return s.PutKeyPolicy(c, &wire.PutKeyPolicyInput{KeyId: id, Policy: `{"Statement":[{"Effect":"Allow","Principal":{"Kmsd":["uid:1001","uid:33"]},"Action":"kms:*","Resource":"*"}]}`})
		}},
		{"EnableKeyRotation", func(c context.Context, id string) error {
			return s.EnableKeyRotation(c, &wire.EnableKeyRotationInput{KeyId: id, RotationPeriodInDays: 90})
		}},
		{"CreateGrant", func(c context.Context, id string) error {
			_, err := s.CreateGrant(c, &wire.CreateGrantInput{KeyId: id, GranteePrincipal: "uid:5", Operations: []string{"Encrypt"}})
			return err
		}},
		{"CreateAlias", func(c context.Context, id string) error {
			return s.CreateAlias(c, &wire.AliasInput{AliasName: "alias/to-" + id, TargetKeyId: id})
		}},
		{"ScheduleKeyDeletion", func(c context.Context, id string) error {
			_, err := s.ScheduleKeyDeletion(c, &wire.ScheduleKeyDeletionInput{KeyId: id, PendingWindowInDays: 7})
			if err == nil {
				_, err = s.CancelKeyDeletion(c, &wire.KeyIDInput{KeyId: id})
				s.EnableKey(ctx, &wire.KeyIDInput{KeyId: id})
			}
			return err
		}},
	}
	use := func(c context.Context, id string) error {
		_, err := s.Encrypt(c, &wire.EncryptInput{KeyId: id, Plaintext: []byte("x")})
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
		wantCode(t, use(alice, cust), wire.CodeNotFound) // not in its policy
	})
	t.Run("service/view by anyone", func(t *testing.T) {
		for name, c := range everyone {
			if err := view(c, svc); err != nil || !listed(c, svc) {
				t.Errorf("%s: %v", name, err)
			}
			if _, err := s.GetKeyPolicy(c, &wire.GetKeyPolicyInput{KeyId: svc}); err != nil {
				t.Errorf("%s GetKeyPolicy: %v", name, err)
			}
		}
	})
	t.Run("service/manage by nobody", func(t *testing.T) {
		for name, c := range everyone {
			for _, m := range manage {
				if err := m.f(c, svc); wire.CodeOf(err) != wire.CodeAccessDenied {
					t.Errorf("%s %s: %v", name, m.name, err)
				}
			}
		}
	})
	t.Run("service/use by its unit only", func(t *testing.T) {
		wantCode(t, use(nginx, svc), "")
		dec, err := s.Decrypt(nginx, &wire.DecryptInput{CiphertextBlob: enc.CiphertextBlob})
		if err != nil || string(dec.Plaintext) != "for nginx" {
			t.Fatalf("unit decrypt: %v", err)
		}
		for name, c := range map[string]context.Context{"root": ctx, "other unit": backup, "user": bob} {
			wantCode(t, use(c, svc), wire.CodeAccessDenied)
			_, err := s.Decrypt(c, &wire.DecryptInput{CiphertextBlob: enc.CiphertextBlob})
			if wire.CodeOf(err) != wire.CodeAccessDenied {
				t.Errorf("%s decrypts the unit's data: %v", name, err)
			}
		}
	})
	t.Run("daemon/view by nobody", func(t *testing.T) {
		for name, c := range everyone {
			if err := view(c, ownID); wire.CodeOf(err) != wire.CodeNotFound || listed(c, ownID) {
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
				if err := m.f(c, ownID); wire.CodeOf(err) != wire.CodeNotFound {
					t.Errorf("%s %s: %v", name, m.name, err)
				}
			}
		}
	})
	t.Run("daemon/use by nobody", func(t *testing.T) {
		forged := forgeBlob(t, ownID)
		for name, c := range everyone {
			if err := use(c, ownID); wire.CodeOf(err) != wire.CodeNotFound {
				t.Errorf("%s: %v", name, err)
			}
			if _, err := s.Decrypt(c, &wire.DecryptInput{CiphertextBlob: forged}); wire.CodeOf(err) != wire.CodeNotFound {
				t.Errorf("%s decrypt: %v", name, err)
			}
		}
	})
}
