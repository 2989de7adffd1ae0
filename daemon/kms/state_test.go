package kms

import (
	"strings"
	"testing"

	"kmsd/keystore"
	"kmsd/wire"
)

// TestKeyStateTable calls every operation on a key in every state kmsd keys
// can be in and checks the exception, against AWS's "Key states of AWS KMS
// keys" table (../shared/reference/aws-kms.md §1.8) as kmsd documents it.
func TestKeyStateTable(t *testing.T) {
	const (
		ok  = ""
		dis = wire.CodeDisabled
		inv = wire.CodeInvalidState
		uns = wire.CodeUnsupportedOperation
	)
	states := []string{wire.KeyStateEnabled, wire.KeyStateDisabled, wire.KeyStatePendingDeletion, wire.KeyStatePendingImport}
	// want[op] lists the code per state, in the order of states.
	want := map[string][4]string{
		wire.OpCancelKeyDeletion:               {inv, inv, ok, inv},
		wire.OpCreateAlias:                     {ok, ok, inv, ok},
		wire.OpDecrypt:                         {ok, dis, inv, inv},
		wire.OpDeleteAlias:                     {ok, ok, ok, ok},
		wire.OpDescribeKey:                     {ok, ok, ok, ok},
		wire.OpDisableKey:                      {ok, ok, inv, inv},
		wire.OpDisableKeyRotation:              {ok, dis, inv, uns},
		wire.OpEnableKey:                       {ok, ok, inv, inv},
		wire.OpEnableKeyRotation:               {ok, dis, inv, uns},
		wire.OpEncrypt:                         {ok, dis, inv, inv},
		wire.OpGenerateDataKey:                 {ok, dis, inv, inv},
		wire.OpGenerateDataKeyWithoutPlaintext: {ok, dis, inv, inv},
		wire.OpGetKeyRotationStatus:            {ok, ok, ok, uns},
		wire.OpListAliases:                     {ok, ok, ok, ok},
		wire.OpListKeyRotations:                {ok, ok, ok, uns},
		wire.OpListResourceTags:                {ok, ok, ok, ok},
		wire.OpReEncrypt:                       {ok, dis, inv, inv},
		wire.OpRotateKeyOnDemand:               {ok, dis, inv, uns},
		wire.OpScheduleKeyDeletion:             {ok, ok, inv, ok},
		wire.OpTagResource:                     {ok, ok, inv, ok},
		wire.OpUntagResource:                   {ok, ok, inv, ok},
		wire.OpUpdateAlias:                     {ok, ok, inv, ok},
		wire.OpUpdateKeyDescription:            {ok, ok, inv, ok},
		wire.OpPutKeyPolicy:                    {ok, ok, ok, ok},
		wire.OpGetKeyPolicy:                    {ok, ok, ok, ok},
		wire.OpListKeyPolicies:                 {ok, ok, ok, ok},
		wire.OpCreateGrant:                     {ok, dis, inv, inv},
		wire.OpListGrants:                      {ok, ok, ok, ok},
		wire.OpRetireGrant:                     {ok, ok, ok, ok},
		wire.OpRevokeGrant:                     {ok, ok, ok, ok},
		wire.OpGetKeyLastUsage:                 {ok, ok, ok, ok},
	}
	if len(want) != len(stateTable) {
		t.Fatalf("the test covers %d operations, the table has %d", len(want), len(stateTable))
	}
	s, _ := testService(t, fast)
	helper := mustKey(t, s) // an Enabled key for blobs and alias moves

	for op, codes := range want {
		for i, state := range states {
			t.Run(op+"/"+state, func(t *testing.T) {
				id := keyInState(t, s, state)
				// A blob under this key, made while it was Enabled, for the decrypt-side ops.
				var blob []byte
				if state != wire.KeyStatePendingImport {
					blob = blobFor(t, s, id, state)
				}
				wantCode(t, callOp(t, s, op, id, helper, blob), codes[i])
			})
		}
	}
}

// keyInState makes a fresh key and puts it in state.
func keyInState(t *testing.T, s *Service, state string) string {
	t.Helper()
	if state == wire.KeyStatePendingImport {
		out, err := s.CreateKey(ctx, &wire.CreateKeyInput{Origin: wire.OriginExternal})
		if err != nil {
			t.Fatal(err)
		}
		if out.KeyMetadata.KeyState != wire.KeyStatePendingImport || out.KeyMetadata.Enabled {
			t.Fatalf("EXTERNAL key is %s", out.KeyMetadata.KeyState)
		}
		return out.KeyMetadata.KeyId
	}
	return mustKey(t, s)
}

// blobFor encrypts under id while it is Enabled, then moves it to state.
func blobFor(t *testing.T, s *Service, id, state string) []byte {
	t.Helper()
	blob := mustEncrypt(t, s, id, "state table", nil)
	switch state {
	case wire.KeyStateDisabled:
		wantCode(t, s.DisableKey(ctx, &wire.KeyIDInput{KeyId: id}), "")
	case wire.KeyStatePendingDeletion:
		_, err := s.ScheduleKeyDeletion(ctx, &wire.ScheduleKeyDeletionInput{KeyId: id, PendingWindowInDays: 7})
		wantCode(t, err, "")
	}
	out, err := s.DescribeKey(ctx, &wire.DescribeKeyInput{KeyId: id})
	if err != nil || out.KeyMetadata.KeyState != state {
		t.Fatalf("key is %v, want %s (%v)", out, state, err)
	}
	return blob
}

// callOp runs op on key id (helper is another Enabled key).
func callOp(t *testing.T, s *Service, op, id, helper string, blob []byte) error {
	t.Helper()
	var err error
	switch op {
	case wire.OpCancelKeyDeletion:
		_, err = s.CancelKeyDeletion(ctx, &wire.KeyIDInput{KeyId: id})
	case wire.OpCreateAlias:
		err = s.CreateAlias(ctx, &wire.AliasInput{AliasName: "alias/st-" + id, TargetKeyId: id})
	case wire.OpDecrypt:
		if blob == nil {
			// A PendingImport key has no material and so no blobs; a forged
			// header naming it must still be refused by the state table.
			blob = forgeBlob(t, id)
		}
		_, err = s.Decrypt(ctx, &wire.DecryptInput{CiphertextBlob: blob})
	case wire.OpDeleteAlias:
		name := "alias/del-" + id
		if err := s.CreateAlias(ctx, &wire.AliasInput{AliasName: name, TargetKeyId: helper}); err != nil {
			t.Fatal(err)
		}
		// Point it at the key under test through the store directly is not
		// possible in PendingDeletion, so test deleting an alias of that
		// key where one can exist, and of the helper otherwise.
		if err := s.UpdateAlias(ctx, &wire.AliasInput{AliasName: name, TargetKeyId: id}); err != nil && wire.CodeOf(err) != wire.CodeInvalidState {
			t.Fatal(err)
		}
		err = s.DeleteAlias(ctx, &wire.DeleteAliasInput{AliasName: name})
	case wire.OpDescribeKey:
		_, err = s.DescribeKey(ctx, &wire.DescribeKeyInput{KeyId: id})
	case wire.OpDisableKey:
		err = s.DisableKey(ctx, &wire.KeyIDInput{KeyId: id})
	case wire.OpDisableKeyRotation:
		err = s.DisableKeyRotation(ctx, &wire.KeyIDInput{KeyId: id})
	case wire.OpEnableKey:
		err = s.EnableKey(ctx, &wire.KeyIDInput{KeyId: id})
	case wire.OpEnableKeyRotation:
		err = s.EnableKeyRotation(ctx, &wire.EnableKeyRotationInput{KeyId: id})
	case wire.OpEncrypt:
		_, err = s.Encrypt(ctx, &wire.EncryptInput{KeyId: id, Plaintext: []byte("x")})
	case wire.OpGenerateDataKey:
		_, err = s.GenerateDataKey(ctx, &wire.GenerateDataKeyInput{KeyId: id, KeySpec: wire.DataKeySpecAES256})
	case wire.OpGenerateDataKeyWithoutPlaintext:
		_, err = s.GenerateDataKeyWithoutPlaintext(ctx, &wire.GenerateDataKeyInput{KeyId: id, NumberOfBytes: 7})
	case wire.OpGetKeyRotationStatus:
		_, err = s.GetKeyRotationStatus(ctx, &wire.KeyIDInput{KeyId: id})
	case wire.OpListAliases:
		_, err = s.ListAliases(ctx, &wire.ListAliasesInput{KeyId: id})
	case wire.OpListKeyRotations:
		_, err = s.ListKeyRotations(ctx, &wire.ListKeyRotationsInput{KeyId: id})
	case wire.OpListResourceTags:
		_, err = s.ListResourceTags(ctx, &wire.ListResourceTagsInput{KeyId: id})
	case wire.OpReEncrypt:
		if blob == nil {
			blob = forgeBlob(t, id)
		}
		_, err = s.ReEncrypt(ctx, &wire.ReEncryptInput{CiphertextBlob: blob, DestinationKeyId: helper})
	case wire.OpRotateKeyOnDemand:
		_, err = s.RotateKeyOnDemand(ctx, &wire.KeyIDInput{KeyId: id})
	case wire.OpScheduleKeyDeletion:
		_, err = s.ScheduleKeyDeletion(ctx, &wire.ScheduleKeyDeletionInput{KeyId: id})
	case wire.OpTagResource:
		err = s.TagResource(ctx, &wire.TagResourceInput{KeyId: id, Tags: []wire.Tag{{TagKey: "k", TagValue: "v"}}})
	case wire.OpUntagResource:
		err = s.UntagResource(ctx, &wire.UntagResourceInput{KeyId: id, TagKeys: []string{"k"}})
	case wire.OpUpdateAlias:
		name := "alias/up-" + id
		if err := s.CreateAlias(ctx, &wire.AliasInput{AliasName: name, TargetKeyId: helper}); err != nil {
			t.Fatal(err)
		}
		err = s.UpdateAlias(ctx, &wire.AliasInput{AliasName: name, TargetKeyId: id})
	case wire.OpUpdateKeyDescription:
		err = s.UpdateKeyDescription(ctx, &wire.UpdateKeyDescriptionInput{KeyId: id, Description: "new"})
	case wire.OpPutKeyPolicy:
		var pol *wire.GetKeyPolicyOutput
		if pol, err = s.GetKeyPolicy(ctx, &wire.GetKeyPolicyInput{KeyId: id}); err == nil {
			err = s.PutKeyPolicy(ctx, &wire.PutKeyPolicyInput{KeyId: id, Policy: pol.Policy})
		}
	case wire.OpGetKeyPolicy:
		_, err = s.GetKeyPolicy(ctx, &wire.GetKeyPolicyInput{KeyId: id, PolicyName: "default"})
	case wire.OpListKeyPolicies:
		_, err = s.ListKeyPolicies(ctx, &wire.ListKeyPoliciesInput{KeyId: id})
	case wire.OpCreateGrant:
		_, err = s.CreateGrant(ctx, &wire.CreateGrantInput{KeyId: id, GranteePrincipal: "uid:7", Operations: []string{"Encrypt"}})
	case wire.OpListGrants:
		_, err = s.ListGrants(ctx, &wire.ListGrantsInput{KeyId: id})
	case wire.OpRetireGrant, wire.OpRevokeGrant:
		// The grant is made by root through the store's path for any state.
		g := seedGrant(t, s, id)
		if op == wire.OpRetireGrant {
			err = s.RetireGrant(ctx, &wire.RetireGrantInput{KeyId: id, GrantId: g})
		} else {
			err = s.RevokeGrant(ctx, &wire.RevokeGrantInput{KeyId: id, GrantId: g})
		}
	case wire.OpGetKeyLastUsage:
		_, _, err = s.KeyForUsage(ctx, id)
	default:
		t.Fatalf("no call for %s", op)
	}
	return err
}

// seedGrant adds a grant to a key in any state, as one made before the
// key left Enabled would be.
func seedGrant(t *testing.T, s *Service, id string) string {
	t.Helper()
	e := s.lookup(mustParse(t, id))
	rec := &keystore.GrantRecord{KeyID: e.id, GrantID: strings.Repeat("a1", 32), GranteePrincipal: "uid:7", Operations: []string{"Encrypt"}}
	var b keystore.Batch
	b.PutGrant(rec)
	if err := s.store.Write(&b); err != nil {
		t.Fatal(err)
	}
	g, _ := s.loadGrant(rec)
	s.setGrants(e, func(m map[string]*grant) { m[rec.GrantID] = g })
	return rec.GrantID
}

// forgeBlob builds a well-formed header naming key id, version 1, with a
// garbage body: enough to reach the key-state check.
func forgeBlob(t *testing.T, id string) []byte {
	t.Helper()
	kid, err := parseID(id)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 80)
	b[0], b[1] = 0x01, 0x01
	copy(b[2:18], kid[:])
	b[21] = 1
	return b
}
