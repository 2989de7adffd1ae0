package kms

import (
	"strings"
	"testing"

	"kmsd/keystore"
	"kmsd/wire/api"
)

// TestKeyStateTable calls every operation on a key in every state kmsd keys
// can be in and checks the exception, against AWS's "Key states of AWS KMS
// keys" table (../shared/reference/aws-kms.md §1.8) as kmsd documents it.
func TestKeyStateTable(t *testing.T) {
	const (
		ok  = ""
		dis = api.CodeDisabled
		inv = api.CodeInvalidState
		uns = api.CodeUnsupportedOperation
		use = api.CodeInvalidKeyUsage
	)
	states := []string{api.KeyStateEnabled, api.KeyStateDisabled, api.KeyStatePendingDeletion, api.KeyStatePendingImport}
	// want[op] lists the code per state, in the order of states.
	want := map[string][4]string{
		api.OpCancelKeyDeletion:               {inv, inv, ok, inv},
		api.OpCreateAlias:                     {ok, ok, inv, ok},
		api.OpDecrypt:                         {ok, dis, inv, inv},
		api.OpDeleteAlias:                     {ok, ok, ok, ok},
		api.OpDescribeKey:                     {ok, ok, ok, ok},
		api.OpDisableKey:                      {ok, ok, inv, inv},
		api.OpDisableKeyRotation:              {ok, dis, inv, uns},
		api.OpEnableKey:                       {ok, ok, inv, inv},
		api.OpEnableKeyRotation:               {ok, dis, inv, uns},
		api.OpEncrypt:                         {ok, dis, inv, inv},
		api.OpGenerateDataKey:                 {ok, dis, inv, inv},
		api.OpGenerateDataKeyWithoutPlaintext: {ok, dis, inv, inv},
		api.OpGetKeyRotationStatus:            {ok, ok, ok, uns},
		api.OpListAliases:                     {ok, ok, ok, ok},
		api.OpListKeyRotations:                {ok, ok, ok, uns},
		api.OpListResourceTags:                {ok, ok, ok, ok},
		api.OpReEncrypt:                       {ok, dis, inv, inv},
		api.OpRotateKeyOnDemand:               {ok, dis, inv, uns},
		api.OpScheduleKeyDeletion:             {ok, ok, inv, ok},
		api.OpTagResource:                     {ok, ok, inv, ok},
		api.OpUntagResource:                   {ok, ok, inv, ok},
		api.OpUpdateAlias:                     {ok, ok, inv, ok},
		api.OpUpdateKeyDescription:            {ok, ok, inv, ok},
		api.OpPutKeyPolicy:                    {ok, ok, ok, ok},
		api.OpGetKeyPolicy:                    {ok, ok, ok, ok},
		api.OpListKeyPolicies:                 {ok, ok, ok, ok},
		api.OpCreateGrant:                     {ok, dis, inv, inv},
		api.OpListGrants:                      {ok, ok, ok, ok},
		api.OpRetireGrant:                     {ok, ok, ok, ok},
		api.OpRevokeGrant:                     {ok, ok, ok, ok},
		api.OpGetKeyLastUsage:                 {ok, ok, ok, ok},
		// Only EXTERNAL keys take material: the AWS_KMS keys of the first
		// three states are UnsupportedOperation unless the state refuses
		// first. A PendingImport key is allowed (the token here is not one).
		api.OpGetParametersForImport:    {uns, uns, inv, ok},
		api.OpImportKeyMaterial:         {uns, uns, inv, api.CodeInvalidImportToken},
		api.OpDeleteImportedKeyMaterial: {uns, uns, inv, ok},
		// The key is symmetric: the operations of the other key specs pass
		// the state table, then refuse its usage (GetPublicKey: it has no
		// public key); a data key pair is encrypted under it.
		api.OpSign:                                {use, dis, inv, inv},
		api.OpVerify:                              {use, dis, inv, inv},
		api.OpGenerateMac:                         {use, dis, inv, inv},
		api.OpVerifyMac:                           {use, dis, inv, inv},
		api.OpDeriveSharedSecret:                  {use, dis, inv, inv},
		api.OpGetPublicKey:                        {uns, dis, inv, inv},
		api.OpGenerateDataKeyPair:                 {ok, dis, inv, inv},
		api.OpGenerateDataKeyPairWithoutPlaintext: {ok, dis, inv, inv},
	}
	ruled := 0
	for _, op := range api.Ops() {
		if op.KeyStates != nil {
			ruled++
		}
	}
	if len(want) != ruled {
		t.Fatalf("the test covers %d operations, the operation table has key-state rules for %d", len(want), ruled)
	}
	s, _ := testService(t)
	helper := mustKey(t, s) // an Enabled key for blobs and alias moves

	for op, codes := range want {
		for i, state := range states {
			t.Run(op+"/"+state, func(t *testing.T) {
				id := keyInState(t, s, state)
				// A blob under this key, made while it was Enabled, for the decrypt-side ops.
				var blob []byte
				if state != api.KeyStatePendingImport {
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
	if state == api.KeyStatePendingImport {
		out, err := s.CreateKey(ctx, &api.CreateKeyInput{Origin: api.OriginExternal})
		if err != nil {
			t.Fatal(err)
		}
		if out.KeyMetadata.KeyState != api.KeyStatePendingImport || out.KeyMetadata.Enabled {
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
	case api.KeyStateDisabled:
		wantCode(t, s.DisableKey(ctx, &api.KeyIDInput{KeyId: id}), "")
	case api.KeyStatePendingDeletion:
		_, err := s.ScheduleKeyDeletion(ctx, &api.ScheduleKeyDeletionInput{KeyId: id, PendingWindowInDays: api.Int32(7)})
		wantCode(t, err, "")
	}
	out, err := s.DescribeKey(ctx, &api.DescribeKeyInput{KeyId: id})
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
	case api.OpCancelKeyDeletion:
		_, err = s.CancelKeyDeletion(ctx, &api.KeyIDInput{KeyId: id})
	case api.OpSign:
		_, err = s.Sign(ctx, &api.SignInput{KeyId: id, Message: []byte("m"), SigningAlgorithm: "ECDSA_SHA_256"})
	case api.OpVerify:
		_, err = s.Verify(ctx, &api.VerifyInput{KeyId: id, Message: []byte("m"), Signature: []byte("s"), SigningAlgorithm: "ECDSA_SHA_256"})
	case api.OpGenerateMac:
		_, err = s.GenerateMac(ctx, &api.GenerateMacInput{KeyId: id, Message: []byte("m"), MacAlgorithm: "HMAC_SHA_256"})
	case api.OpVerifyMac:
		_, err = s.VerifyMac(ctx, &api.VerifyMacInput{KeyId: id, Message: []byte("m"), Mac: []byte("m"), MacAlgorithm: "HMAC_SHA_256"})
	case api.OpDeriveSharedSecret:
		_, err = s.DeriveSharedSecret(ctx, &api.DeriveSharedSecretInput{KeyId: id, KeyAgreementAlgorithm: "ECDH", PublicKey: []byte("p")})
	case api.OpGetPublicKey:
		_, err = s.GetPublicKey(ctx, &api.GetPublicKeyInput{KeyId: id})
	case api.OpGenerateDataKeyPair, api.OpGenerateDataKeyPairWithoutPlaintext:
		_, err = s.generateDataKeyPair(ctx, op, &api.GenerateDataKeyPairInput{KeyId: id, KeyPairSpec: "ECC_NIST_P256"})
	case api.OpCreateAlias:
		err = s.CreateAlias(ctx, &api.AliasInput{AliasName: "alias/st-" + id, TargetKeyId: id})
	case api.OpDecrypt:
		if blob == nil {
			// A PendingImport key has no material and so no blobs; a forged
			// header naming it must still be refused by the state table.
			blob = forgeBlob(t, id)
		}
		_, err = s.Decrypt(ctx, &api.DecryptInput{CiphertextBlob: blob})
	case api.OpDeleteAlias:
		name := "alias/del-" + id
		if err := s.CreateAlias(ctx, &api.AliasInput{AliasName: name, TargetKeyId: helper}); err != nil {
			t.Fatal(err)
		}
		// Point it at the key under test through the store directly is not
		// possible in PendingDeletion, so test deleting an alias of that
		// key where one can exist, and of the helper otherwise.
		if err := s.UpdateAlias(ctx, &api.AliasInput{AliasName: name, TargetKeyId: id}); err != nil && api.CodeOf(err) != api.CodeInvalidState {
			t.Fatal(err)
		}
		err = s.DeleteAlias(ctx, &api.DeleteAliasInput{AliasName: name})
	case api.OpDescribeKey:
		_, err = s.DescribeKey(ctx, &api.DescribeKeyInput{KeyId: id})
	case api.OpGetParametersForImport:
		_, err = s.GetParametersForImport(ctx, &api.GetParametersForImportInput{KeyId: id, WrappingAlgorithm: api.WrapOAEPSHA256, WrappingKeySpec: api.WrapRSA2048})
	case api.OpImportKeyMaterial:
		_, err = s.ImportKeyMaterial(ctx, &api.ImportKeyMaterialInput{KeyId: id, ImportToken: []byte("not a token"),
			EncryptedKeyMaterial: []byte("x"), ExpirationModel: api.ExpirationDoesNotExpire})
	case api.OpDeleteImportedKeyMaterial:
		_, err = s.DeleteImportedKeyMaterial(ctx, &api.DeleteImportedKeyMaterialInput{KeyId: id})
	case api.OpDisableKey:
		err = s.DisableKey(ctx, &api.KeyIDInput{KeyId: id})
	case api.OpDisableKeyRotation:
		err = s.DisableKeyRotation(ctx, &api.KeyIDInput{KeyId: id})
	case api.OpEnableKey:
		err = s.EnableKey(ctx, &api.KeyIDInput{KeyId: id})
	case api.OpEnableKeyRotation:
		err = s.EnableKeyRotation(ctx, &api.EnableKeyRotationInput{KeyId: id})
	case api.OpEncrypt:
		_, err = s.Encrypt(ctx, &api.EncryptInput{KeyId: id, Plaintext: []byte("x")})
	case api.OpGenerateDataKey:
		_, err = s.GenerateDataKey(ctx, &api.GenerateDataKeyInput{KeyId: id, KeySpec: api.DataKeySpecAES256})
	case api.OpGenerateDataKeyWithoutPlaintext:
		_, err = s.GenerateDataKeyWithoutPlaintext(ctx, &api.GenerateDataKeyInput{KeyId: id, NumberOfBytes: api.Int32(7)})
	case api.OpGetKeyRotationStatus:
		_, err = s.GetKeyRotationStatus(ctx, &api.KeyIDInput{KeyId: id})
	case api.OpListAliases:
		_, err = s.ListAliases(ctx, &api.ListAliasesInput{KeyId: id})
	case api.OpListKeyRotations:
		_, err = s.ListKeyRotations(ctx, &api.ListKeyRotationsInput{KeyId: id})
	case api.OpListResourceTags:
		_, err = s.ListResourceTags(ctx, &api.ListResourceTagsInput{KeyId: id})
	case api.OpReEncrypt:
		if blob == nil {
			blob = forgeBlob(t, id)
		}
		_, err = s.ReEncrypt(ctx, &api.ReEncryptInput{CiphertextBlob: blob, DestinationKeyId: helper})
	case api.OpRotateKeyOnDemand:
		_, err = s.RotateKeyOnDemand(ctx, &api.KeyIDInput{KeyId: id})
	case api.OpScheduleKeyDeletion:
		_, err = s.ScheduleKeyDeletion(ctx, &api.ScheduleKeyDeletionInput{KeyId: id})
	case api.OpTagResource:
		err = s.TagResource(ctx, &api.TagResourceInput{KeyId: id, Tags: []api.Tag{{TagKey: "k", TagValue: "v"}}})
	case api.OpUntagResource:
		err = s.UntagResource(ctx, &api.UntagResourceInput{KeyId: id, TagKeys: []string{"k"}})
	case api.OpUpdateAlias:
		name := "alias/up-" + id
		if err := s.CreateAlias(ctx, &api.AliasInput{AliasName: name, TargetKeyId: helper}); err != nil {
			t.Fatal(err)
		}
		err = s.UpdateAlias(ctx, &api.AliasInput{AliasName: name, TargetKeyId: id})
	case api.OpUpdateKeyDescription:
		err = s.UpdateKeyDescription(ctx, &api.UpdateKeyDescriptionInput{KeyId: id, Description: "new"})
	case api.OpPutKeyPolicy:
		var pol *api.GetKeyPolicyOutput
		if pol, err = s.GetKeyPolicy(ctx, &api.GetKeyPolicyInput{KeyId: id}); err == nil {
			err = s.PutKeyPolicy(ctx, &api.PutKeyPolicyInput{KeyId: id, Policy: pol.Policy})
		}
	case api.OpGetKeyPolicy:
		_, err = s.GetKeyPolicy(ctx, &api.GetKeyPolicyInput{KeyId: id, PolicyName: "default"})
	case api.OpListKeyPolicies:
		_, err = s.ListKeyPolicies(ctx, &api.ListKeyPoliciesInput{KeyId: id})
	case api.OpCreateGrant:
		_, err = s.CreateGrant(ctx, &api.CreateGrantInput{KeyId: id, GranteePrincipal: "uid:7", Operations: []string{"Encrypt"}})
	case api.OpListGrants:
		_, err = s.ListGrants(ctx, &api.ListGrantsInput{KeyId: id})
	case api.OpRetireGrant, api.OpRevokeGrant:
		// The grant is made by root through the store's path for any state.
		g := seedGrant(t, s, id)
		if op == api.OpRetireGrant {
			err = s.RetireGrant(ctx, &api.RetireGrantInput{KeyId: id, GrantId: g})
		} else {
			err = s.RevokeGrant(ctx, &api.RevokeGrantInput{KeyId: id, GrantId: g})
		}
	case api.OpGetKeyLastUsage:
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
