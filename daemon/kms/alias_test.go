package kms

import (
	"fmt"
	"strings"
	"testing"

	"kmsd/wire"
)

func TestAliasNames(t *testing.T) {
	s, _ := testService(t, fast)
	id := mustKey(t, s)
	cases := []struct{ name, code string }{
		{"alias/app", ""},
		{"alias/a:b/c_d-e", ""},
		{"alias/" + strings.Repeat("x", 250), ""},
		{"alias/" + strings.Repeat("x", 251), wire.CodeValidation},
		{"app", wire.CodeInvalidAliasName},
		{"alias/", wire.CodeInvalidAliasName},
		{"alias/sp ace", wire.CodeInvalidAliasName},
		{"alias/ünï", wire.CodeInvalidAliasName},
		{"alias/aws/s3", wire.CodeInvalidAliasName},
		{"alias/managed/nginx.service", wire.CodeInvalidAliasName},
		{"", wire.CodeValidation},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantCode(t, s.CreateAlias(ctx, &wire.AliasInput{AliasName: c.name, TargetKeyId: id}), c.code)
		})
	}
	wantCode(t, s.CreateAlias(ctx, &wire.AliasInput{AliasName: "alias/app", TargetKeyId: id}), wire.CodeAlreadyExists)
	wantCode(t, s.CreateAlias(ctx, &wire.AliasInput{AliasName: "alias/x", TargetKeyId: "alias/app"}), wire.CodeNotFound)
}

func TestAliasLifecycle(t *testing.T) {
	s, _ := testService(t, fast)
	a, b := mustKey(t, s), mustKey(t, s)
	wantCode(t, s.CreateAlias(ctx, &wire.AliasInput{AliasName: "alias/app", TargetKeyId: a}), "")
	blobA := mustEncrypt(t, s, "alias/app", "x", nil)
	if h := mustParse(t, a); string(blobA[2:18]) != string(h[:]) {
		t.Fatal("alias did not resolve to its key")
	}
	wantCode(t, s.UpdateAlias(ctx, &wire.AliasInput{AliasName: "alias/app", TargetKeyId: b}), "")
	blobB := mustEncrypt(t, s, "alias/app", "x", nil)
	if h := mustParse(t, b); string(blobB[2:18]) != string(h[:]) {
		t.Fatal("alias was not moved")
	}
	// Decrypt with the alias as KeyId: it now names b, so a's blob is the wrong key.
	_, err := s.Decrypt(ctx, &wire.DecryptInput{CiphertextBlob: blobA, KeyId: "alias/app"})
	wantCode(t, err, wire.CodeIncorrectKey)
	wantCode(t, s.UpdateAlias(ctx, &wire.AliasInput{AliasName: "alias/none", TargetKeyId: b}), wire.CodeNotFound)

	// A pending-deletion target refuses new aliases; as the old target it is fine.
	if _, err := s.ScheduleKeyDeletion(ctx, &wire.ScheduleKeyDeletionInput{KeyId: b}); err != nil {
		t.Fatal(err)
	}
	wantCode(t, s.UpdateAlias(ctx, &wire.AliasInput{AliasName: "alias/app", TargetKeyId: a}), "")

	wantCode(t, s.DeleteAlias(ctx, &wire.DeleteAliasInput{AliasName: "alias/app"}), "")
	wantCode(t, s.DeleteAlias(ctx, &wire.DeleteAliasInput{AliasName: "alias/app"}), wire.CodeNotFound)
	if _, err := s.DescribeKey(ctx, &wire.DescribeKeyInput{KeyId: a}); err != nil {
		t.Fatalf("deleting the alias touched the key: %v", err)
	}
}

func TestListAliases(t *testing.T) {
	s, _ := testService(t, fast)
	a, b := mustKey(t, s), mustKey(t, s)
	for i := range 7 {
		target := a
		if i%2 == 1 {
			target = b
		}
		wantCode(t, s.CreateAlias(ctx, &wire.AliasInput{AliasName: fmt.Sprintf("alias/n%d", i), TargetKeyId: target}), "")
	}
	var names []string
	marker := ""
	for {
		out, err := s.ListAliases(ctx, &wire.ListAliasesInput{Limit: 3, Marker: marker})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range out.Aliases {
			if e.AliasArn != ARNPrefix+e.AliasName || e.TargetKeyId == "" || e.CreationDate.IsZero() {
				t.Fatalf("entry %+v", e)
			}
			names = append(names, e.AliasName)
		}
		if !out.Truncated {
			break
		}
		marker = out.NextMarker
	}
	if strings.Join(names, ",") != "alias/n0,alias/n1,alias/n2,alias/n3,alias/n4,alias/n5,alias/n6" {
		t.Fatalf("listed %v", names)
	}
	out, err := s.ListAliases(ctx, &wire.ListAliasesInput{KeyId: b})
	if err != nil || len(out.Aliases) != 3 {
		t.Fatalf("filtered: %+v %v", out, err)
	}
	for _, e := range out.Aliases {
		if e.TargetKeyId != b {
			t.Fatalf("filter leaked %+v", e)
		}
	}
	_, err = s.ListAliases(ctx, &wire.ListAliasesInput{KeyId: "alias/n0"})
	wantCode(t, err, wire.CodeNotFound)
	_, err = s.ListAliases(ctx, &wire.ListAliasesInput{Limit: 101})
	wantCode(t, err, wire.CodeValidation)
	_, err = s.ListAliases(ctx, &wire.ListAliasesInput{Marker: "zzz"})
	wantCode(t, err, wire.CodeInvalidMarker)
}

func TestTags(t *testing.T) {
	s, _ := testService(t, fast)
	id := mustKey(t, s)
	wantCode(t, s.TagResource(ctx, &wire.TagResourceInput{KeyId: id, Tags: []wire.Tag{{TagKey: "b", TagValue: "1"}, {TagKey: "a", TagValue: "2"}}}), "")
	wantCode(t, s.TagResource(ctx, &wire.TagResourceInput{KeyId: id, Tags: []wire.Tag{{TagKey: "b", TagValue: "3"}}}), "")
	out, err := s.ListResourceTags(ctx, &wire.ListResourceTagsInput{KeyId: id})
	if err != nil || fmt.Sprint(out.Tags) != "[{a 2} {b 3}]" {
		t.Fatalf("tags %v %v", out, err)
	}
	wantCode(t, s.UntagResource(ctx, &wire.UntagResourceInput{KeyId: id, TagKeys: []string{"a", "missing"}}), "")
	out, _ = s.ListResourceTags(ctx, &wire.ListResourceTagsInput{KeyId: id})
	if fmt.Sprint(out.Tags) != "[{b 3}]" {
		t.Fatalf("after untag %v", out.Tags)
	}
	bad := []struct {
		tag  wire.Tag
		code string
	}{
		{wire.Tag{TagKey: "", TagValue: "v"}, wire.CodeTag},
		{wire.Tag{TagKey: strings.Repeat("k", 129), TagValue: "v"}, wire.CodeTag},
		{wire.Tag{TagKey: "k", TagValue: strings.Repeat("v", 257)}, wire.CodeTag},
		{wire.Tag{TagKey: "aws:owner", TagValue: "v"}, wire.CodeTag},
		{wire.Tag{TagKey: "AWS:owner", TagValue: "v"}, wire.CodeTag},
		{wire.Tag{TagKey: "k\n", TagValue: "v"}, wire.CodeTag},
	}
	for _, c := range bad {
		wantCode(t, s.TagResource(ctx, &wire.TagResourceInput{KeyId: id, Tags: []wire.Tag{c.tag}}), c.code)
	}
	// 128 characters (not bytes) is the limit.
	wantCode(t, s.TagResource(ctx, &wire.TagResourceInput{KeyId: id, Tags: []wire.Tag{{TagKey: strings.Repeat("é", 128), TagValue: ""}}}), "")

	var many []wire.Tag
	for i := range 48 {
		many = append(many, wire.Tag{TagKey: fmt.Sprintf("t%02d", i), TagValue: "v"})
	}
	wantCode(t, s.TagResource(ctx, &wire.TagResourceInput{KeyId: id, Tags: many}), "")
	wantCode(t, s.TagResource(ctx, &wire.TagResourceInput{KeyId: id, Tags: []wire.Tag{{TagKey: "one-too-many", TagValue: ""}}}), wire.CodeLimitExceeded)
	var keys []string
	marker := ""
	for {
		out, err := s.ListResourceTags(ctx, &wire.ListResourceTagsInput{KeyId: id, Limit: 20, Marker: marker})
		if err != nil {
			t.Fatal(err)
		}
		for _, t := range out.Tags {
			keys = append(keys, t.TagKey)
		}
		if !out.Truncated {
			break
		}
		marker = out.NextMarker
	}
	if len(keys) != 50 {
		t.Fatalf("paged %d tags", len(keys))
	}
	_, err = s.ListResourceTags(ctx, &wire.ListResourceTagsInput{KeyId: id, Limit: 51})
	wantCode(t, err, wire.CodeValidation)
	_, err = s.ListResourceTags(ctx, &wire.ListResourceTagsInput{KeyId: "alias/x"})
	wantCode(t, err, wire.CodeNotFound)
}
