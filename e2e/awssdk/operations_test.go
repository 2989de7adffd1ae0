package awssdk

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
)

// must(call)(t) is call's result, the test failing on its error.
func must[T any](v T, err error) func(*testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// TestOperations drives every AWS KMS operation kmsd has through the SDK,
// checking what each answers as the SDK reads it.
func TestOperations(t *testing.T) {
	e := start(t)
	c := e.client(t)
	before := time.Now().Add(-time.Second)
	ck := must(c.CreateKey(ctx, &kms.CreateKeyInput{Description: aws.String("sdk <&>"),
		Tags: []types.Tag{{TagKey: aws.String("env"), TagValue: aws.String("test")}}}))(t)
	md := ck.KeyMetadata
	id := aws.ToString(md.KeyId)
	if md.KeyState != types.KeyStateEnabled || !md.Enabled || aws.ToString(md.Description) != "sdk <&>" ||
		md.KeySpec != types.KeySpecSymmetricDefault || md.CreationDate == nil || md.CreationDate.Before(before) || md.CreationDate.After(time.Now()) {
		t.Fatalf("CreateKey: %+v", md)
	}
	dk := must(c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(id)}))(t)
	if aws.ToString(dk.KeyMetadata.Arn) != aws.ToString(md.Arn) || !dk.KeyMetadata.CreationDate.Equal(*md.CreationDate) {
		t.Errorf("DescribeKey: %+v", dk.KeyMetadata)
	}
	must(c.UpdateKeyDescription(ctx, &kms.UpdateKeyDescriptionInput{KeyId: aws.String(id), Description: aws.String("sdk")}))(t)
	must(c.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/sdk"), TargetKeyId: aws.String(id)}))(t)

	// Crypto, by alias and by id.
	enc := must(c.Encrypt(ctx, &kms.EncryptInput{KeyId: aws.String("alias/sdk"), Plaintext: []byte("attack at dawn"),
		EncryptionContext: map[string]string{"app": "sdk"}}))(t)
	dec := must(c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: map[string]string{"app": "sdk"}}))(t)
	if string(dec.Plaintext) != "attack at dawn" || aws.ToString(dec.KeyId) != aws.ToString(md.Arn) ||
		dec.EncryptionAlgorithm != types.EncryptionAlgorithmSpecSymmetricDefault {
		t.Errorf("Decrypt: %q %s %s", dec.Plaintext, aws.ToString(dec.KeyId), dec.EncryptionAlgorithm)
	}
	other := must(c.CreateKey(ctx, &kms.CreateKeyInput{}))(t).KeyMetadata.KeyId
	re := must(c.ReEncrypt(ctx, &kms.ReEncryptInput{CiphertextBlob: enc.CiphertextBlob, DestinationKeyId: other,
		SourceEncryptionContext: map[string]string{"app": "sdk"}}))(t)
	if dec := must(c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: re.CiphertextBlob}))(t); string(dec.Plaintext) != "attack at dawn" {
		t.Errorf("ReEncrypt then Decrypt: %q", dec.Plaintext)
	}
	gdk := must(c.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: aws.String(id), KeySpec: types.DataKeySpecAes256}))(t)
	if dec := must(c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: gdk.CiphertextBlob}))(t); len(gdk.Plaintext) != 32 || !bytes.Equal(dec.Plaintext, gdk.Plaintext) {
		t.Errorf("GenerateDataKey: %d bytes, decrypts to another", len(gdk.Plaintext))
	}
	gdkw := must(c.GenerateDataKeyWithoutPlaintext(ctx, &kms.GenerateDataKeyWithoutPlaintextInput{KeyId: aws.String(id), NumberOfBytes: aws.Int32(16)}))(t)
	if dec := must(c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: gdkw.CiphertextBlob}))(t); len(dec.Plaintext) != 16 {
		t.Errorf("GenerateDataKeyWithoutPlaintext: a %d-byte key", len(dec.Plaintext))
	}
	if r := must(c.GenerateRandom(ctx, &kms.GenerateRandomInput{NumberOfBytes: aws.Int32(64)}))(t); len(r.Plaintext) != 64 {
		t.Errorf("GenerateRandom: %d bytes", len(r.Plaintext))
	}

	// Last use (AWS's GetKeyLastUsage): the Decrypt just above, with the
	// audit record's seq as its CloudTrail event id.
	lu := must(c.GetKeyLastUsage(ctx, &kms.GetKeyLastUsageInput{KeyId: aws.String(id)}))(t)
	if lu.KeyLastUsage == nil || lu.KeyLastUsage.Operation != types.KeyLastUsageTrackingOperationDecrypt ||
		aws.ToString(lu.KeyLastUsage.CloudTrailEventId) == "" || lu.KeyLastUsage.Timestamp == nil ||
		lu.TrackingStartDate == nil || lu.KeyCreationDate == nil || aws.ToString(lu.KeyId) != aws.ToString(md.Arn) {
		t.Errorf("GetKeyLastUsage: %+v %+v", lu, lu.KeyLastUsage)
	}

	// Tags.
	must(c.TagResource(ctx, &kms.TagResourceInput{KeyId: aws.String(id), Tags: []types.Tag{{TagKey: aws.String("team"), TagValue: aws.String("a")}}}))(t)
	must(c.UntagResource(ctx, &kms.UntagResourceInput{KeyId: aws.String(id), TagKeys: []string{"env"}}))(t)
	tags := must(c.ListResourceTags(ctx, &kms.ListResourceTagsInput{KeyId: aws.String(id)}))(t)
	if len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].TagKey) != "team" {
		t.Errorf("ListResourceTags: %+v", tags.Tags)
	}

	// Rotation.
	must(c.EnableKeyRotation(ctx, &kms.EnableKeyRotationInput{KeyId: aws.String(id), RotationPeriodInDays: aws.Int32(90)}))(t)
	st := must(c.GetKeyRotationStatus(ctx, &kms.GetKeyRotationStatusInput{KeyId: aws.String(id)}))(t)
	if !st.KeyRotationEnabled || aws.ToInt32(st.RotationPeriodInDays) != 90 || st.NextRotationDate == nil {
		t.Errorf("GetKeyRotationStatus: %+v", st)
	}
	must(c.RotateKeyOnDemand(ctx, &kms.RotateKeyOnDemandInput{KeyId: aws.String(id)}))(t)
	rots := must(c.ListKeyRotations(ctx, &kms.ListKeyRotationsInput{KeyId: aws.String(id)}))(t)
	if len(rots.Rotations) != 1 || rots.Rotations[0].RotationType != types.RotationTypeOnDemand || rots.Rotations[0].RotationDate == nil {
		t.Errorf("ListKeyRotations: %+v", rots.Rotations)
	}
	must(c.DisableKeyRotation(ctx, &kms.DisableKeyRotationInput{KeyId: aws.String(id)}))(t)
	if dec := must(c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: map[string]string{"app": "sdk"}}))(t); string(dec.Plaintext) != "attack at dawn" {
		t.Errorf("a blob made before rotation: %q", dec.Plaintext)
	}

	// Policies.
	pol := must(c.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: aws.String(id), PolicyName: aws.String("default")}))(t)
	must(c.PutKeyPolicy(ctx, &kms.PutKeyPolicyInput{KeyId: aws.String(id), PolicyName: aws.String("default"), Policy: pol.Policy}))(t)
	if ps := must(c.ListKeyPolicies(ctx, &kms.ListKeyPoliciesInput{KeyId: aws.String(id)}))(t); !slices.Equal(ps.PolicyNames, []string{"default"}) {
		t.Errorf("ListKeyPolicies: %v", ps.PolicyNames)
	}

	// Grants.
	g := must(c.CreateGrant(ctx, &kms.CreateGrantInput{KeyId: aws.String(id), GranteePrincipal: aws.String("uid:65534"),
		RetiringPrincipal: aws.String("uid:0"), Operations: []types.GrantOperation{types.GrantOperationDecrypt}, Name: aws.String("g1")}))(t)
	g2 := must(c.CreateGrant(ctx, &kms.CreateGrantInput{KeyId: aws.String(id), GranteePrincipal: aws.String("uid:65534"),
		Operations: []types.GrantOperation{types.GrantOperationEncrypt}}))(t)
	if n := len(must(c.ListRetirableGrants(ctx, &kms.ListRetirableGrantsInput{RetiringPrincipal: aws.String("uid:0")}))(t).Grants); n != 1 {
		t.Errorf("ListRetirableGrants: %d grants, want 1", n)
	}
	must(c.RetireGrant(ctx, &kms.RetireGrantInput{GrantToken: g.GrantToken}))(t)
	must(c.RevokeGrant(ctx, &kms.RevokeGrantInput{KeyId: aws.String(id), GrantId: g2.GrantId}))(t)
	if n := len(must(c.ListGrants(ctx, &kms.ListGrantsInput{KeyId: aws.String(id)}))(t).Grants); n != 0 {
		t.Errorf("ListGrants after retiring and revoking: %d grants", n)
	}

	// States and aliases.
	must(c.DisableKey(ctx, &kms.DisableKeyInput{KeyId: aws.String(id)}))(t)
	must(c.EnableKey(ctx, &kms.EnableKeyInput{KeyId: aws.String(id)}))(t)
	must(c.UpdateAlias(ctx, &kms.UpdateAliasInput{AliasName: aws.String("alias/sdk"), TargetKeyId: other}))(t)
	must(c.DeleteAlias(ctx, &kms.DeleteAliasInput{AliasName: aws.String("alias/sdk")}))(t)
	del := must(c.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: aws.String(id), PendingWindowInDays: aws.Int32(7)}))(t)
	if del.KeyState != types.KeyStatePendingDeletion || aws.ToInt32(del.PendingWindowInDays) != 7 ||
		del.DeletionDate == nil || time.Until(*del.DeletionDate) < 6*24*time.Hour {
		t.Errorf("ScheduleKeyDeletion: %+v", del)
	}
	if cd := must(c.CancelKeyDeletion(ctx, &kms.CancelKeyDeletionInput{KeyId: aws.String(id)}))(t); aws.ToString(cd.KeyId) != aws.ToString(md.Arn) {
		t.Errorf("CancelKeyDeletion: %s", aws.ToString(cd.KeyId))
	}
	if md := must(c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(id)}))(t).KeyMetadata; md.KeyState != types.KeyStateDisabled {
		t.Errorf("after CancelKeyDeletion: %s, want Disabled", md.KeyState)
	}
	// Each call is in the audit trail as the process that made it, with
	// source aws, and no plaintext is.
	trail := e.d.OK(t, "audit", "query", "--operation", "Encrypt")
	if !strings.Contains(trail, `"source":"aws"`) || !strings.Contains(trail, `"request_id":"aws:`) || strings.Contains(trail, "attack at dawn") {
		t.Errorf("the audit trail's Encrypt records:\n%s", trail)
	}
}

// TestPaginators: the SDK's paginators walk ListKeys, ListAliases and
// ListGrants page by page and see every item once.
func TestPaginators(t *testing.T) {
	e := start(t)
	c := e.client(t)
	var ids []string
	for i := range 7 {
		id := aws.ToString(must(c.CreateKey(ctx, &kms.CreateKeyInput{}))(t).KeyMetadata.KeyId)
		ids = append(ids, id)
		must(c.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/p" + string(rune('a'+i))), TargetKeyId: aws.String(id)}))(t)
		must(c.CreateGrant(ctx, &kms.CreateGrantInput{KeyId: aws.String(ids[0]), GranteePrincipal: aws.String("uid:65534"),
			Operations: []types.GrantOperation{types.GrantOperationDecrypt}}))(t)
	}
	var keys, aliases, grants []string
	var pages int
	for p := kms.NewListKeysPaginator(c, &kms.ListKeysInput{Limit: aws.Int32(2)}); p.HasMorePages(); pages++ {
		for _, k := range must(p.NextPage(ctx))(t).Keys {
			keys = append(keys, aws.ToString(k.KeyId))
		}
	}
	for p := kms.NewListAliasesPaginator(c, &kms.ListAliasesInput{Limit: aws.Int32(3)}); p.HasMorePages(); {
		for _, a := range must(p.NextPage(ctx))(t).Aliases {
			aliases = append(aliases, aws.ToString(a.AliasName))
		}
	}
	for p := kms.NewListGrantsPaginator(c, &kms.ListGrantsInput{KeyId: aws.String(ids[0]), Limit: aws.Int32(2)}); p.HasMorePages(); {
		for _, g := range must(p.NextPage(ctx))(t).Grants {
			grants = append(grants, aws.ToString(g.GrantId))
		}
	}
	slices.Sort(keys)
	slices.Sort(ids)
	if !slices.Equal(keys, ids) || pages != 4 {
		t.Errorf("ListKeys in %d pages: %v, want %v", pages, keys, ids)
	}
	var mine []string
	for _, a := range aliases {
		if len(a) == len("alias/pa") && a[:len("alias/p")] == "alias/p" {
			mine = append(mine, a)
		}
	}
	if len(mine) != 7 || len(slices.Compact(slices.Sorted(slices.Values(mine)))) != 7 {
		t.Errorf("ListAliases: %v", aliases)
	}
	if len(grants) != 7 || len(slices.Compact(slices.Sorted(slices.Values(grants)))) != 7 {
		t.Errorf("ListGrants: %v", grants)
	}
}
