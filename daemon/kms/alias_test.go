package kms

import (
	"fmt"
	"strings"
	"testing"

	"kmsd/wire/api"
)

func TestAliasNames(t *testing.T) {
	s, _ := testService(t)
	id := mustKey(t, s)
	cases := []struct{ name, code string }{
		{"alias/app", ""},
		{"alias/a:b/c_d-e", ""},
		{"alias/" + strings.Repeat("x", 250), ""},
		{"alias/" + strings.Repeat("x", 251), api.CodeValidation},
		{"app", api.CodeInvalidAliasName},
		{"alias/", api.CodeInvalidAliasName},
		{"alias/sp ace", api.CodeInvalidAliasName},
		{"alias/ünï", api.CodeInvalidAliasName},
		{"alias/aws/s3", api.CodeInvalidAliasName},
		{"alias/managed/nginx.service", api.CodeInvalidAliasName},
		{"", api.CodeValidation},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantCode(t, s.CreateAlias(ctx, &api.AliasInput{AliasName: c.name, TargetKeyId: id}), c.code)
		})
	}
	wantCode(t, s.CreateAlias(ctx, &api.AliasInput{AliasName: "alias/app", TargetKeyId: id}), api.CodeAlreadyExists)
	wantCode(t, s.CreateAlias(ctx, &api.AliasInput{AliasName: "alias/x", TargetKeyId: "alias/app"}), api.CodeNotFound)
}

func TestAliasLifecycle(t *testing.T) {
	s, _ := testService(t)
	a, b := mustKey(t, s), mustKey(t, s)
	wantCode(t, s.CreateAlias(ctx, &api.AliasInput{AliasName: "alias/app", TargetKeyId: a}), "")
	blobA := mustEncrypt(t, s, "alias/app", "x", nil)
	if h := mustParse(t, a); string(blobA[2:18]) != string(h[:]) {
		t.Fatal("alias did not resolve to its key")
	}
	wantCode(t, s.UpdateAlias(ctx, &api.AliasInput{AliasName: "alias/app", TargetKeyId: b}), "")
	blobB := mustEncrypt(t, s, "alias/app", "x", nil)
	if h := mustParse(t, b); string(blobB[2:18]) != string(h[:]) {
		t.Fatal("alias was not moved")
	}
	// Decrypt with the alias as KeyId: it now names b, so a's blob is the wrong key.
	_, err := s.Decrypt(ctx, &api.DecryptInput{CiphertextBlob: blobA, KeyId: "alias/app"})
	wantCode(t, err, api.CodeIncorrectKey)
	wantCode(t, s.UpdateAlias(ctx, &api.AliasInput{AliasName: "alias/none", TargetKeyId: b}), api.CodeNotFound)

	// A pending-deletion target refuses new aliases; as the old target it is fine.
	if _, err := s.ScheduleKeyDeletion(ctx, &api.ScheduleKeyDeletionInput{KeyId: b}); err != nil {
		t.Fatal(err)
	}
	wantCode(t, s.UpdateAlias(ctx, &api.AliasInput{AliasName: "alias/app", TargetKeyId: a}), "")

	wantCode(t, s.DeleteAlias(ctx, &api.DeleteAliasInput{AliasName: "alias/app"}), "")
	wantCode(t, s.DeleteAlias(ctx, &api.DeleteAliasInput{AliasName: "alias/app"}), api.CodeNotFound)
	if _, err := s.DescribeKey(ctx, &api.DescribeKeyInput{KeyId: a}); err != nil {
		t.Fatalf("deleting the alias touched the key: %v", err)
	}
}

func TestListAliases(t *testing.T) {
	s, _ := testService(t)
	a, b := mustKey(t, s), mustKey(t, s)
	for i := range 7 {
		target := a
		if i%2 == 1 {
			target = b
		}
		wantCode(t, s.CreateAlias(ctx, &api.AliasInput{AliasName: fmt.Sprintf("alias/n%d", i), TargetKeyId: target}), "")
	}
	var names []string
	marker := ""
	for {
		out, err := s.ListAliases(ctx, &api.ListAliasesInput{Limit: api.Int32(3), Marker: marker})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range out.Aliases {
			if e.AliasArn != testARNPrefix+e.AliasName || e.TargetKeyId == "" || e.CreationDate.IsZero() {
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
	out, err := s.ListAliases(ctx, &api.ListAliasesInput{KeyId: b})
	if err != nil || len(out.Aliases) != 3 {
		t.Fatalf("filtered: %+v %v", out, err)
	}
	for _, e := range out.Aliases {
		if e.TargetKeyId != b {
			t.Fatalf("filter leaked %+v", e)
		}
	}
	_, err = s.ListAliases(ctx, &api.ListAliasesInput{KeyId: "alias/n0"})
	wantCode(t, err, api.CodeNotFound)
	_, err = s.ListAliases(ctx, &api.ListAliasesInput{Limit: api.Int32(101)})
	wantCode(t, err, api.CodeValidation)
	_, err = s.ListAliases(ctx, &api.ListAliasesInput{Marker: "zzz"})
	wantCode(t, err, api.CodeInvalidMarker)
}

func TestTags(t *testing.T) {
	s, _ := testService(t)
	id := mustKey(t, s)
	wantCode(t, s.TagResource(ctx, &api.TagResourceInput{KeyId: id, Tags: []api.Tag{{TagKey: "b", TagValue: "1"}, {TagKey: "a", TagValue: "2"}}}), "")
	wantCode(t, s.TagResource(ctx, &api.TagResourceInput{KeyId: id, Tags: []api.Tag{{TagKey: "b", TagValue: "3"}}}), "")
	out, err := s.ListResourceTags(ctx, &api.ListResourceTagsInput{KeyId: id})
	if err != nil || fmt.Sprint(out.Tags) != "[{a 2} {b 3}]" {
		t.Fatalf("tags %v %v", out, err)
	}
	wantCode(t, s.UntagResource(ctx, &api.UntagResourceInput{KeyId: id, TagKeys: []string{"a", "missing"}}), "")
	out, _ = s.ListResourceTags(ctx, &api.ListResourceTagsInput{KeyId: id})
	if fmt.Sprint(out.Tags) != "[{b 3}]" {
		t.Fatalf("after untag %v", out.Tags)
	}
	bad := []struct {
		tag  api.Tag
		code string
	}{
		{api.Tag{TagKey: "", TagValue: "v"}, api.CodeTag},
		{api.Tag{TagKey: strings.Repeat("k", 129), TagValue: "v"}, api.CodeTag},
		{api.Tag{TagKey: "k", TagValue: strings.Repeat("v", 257)}, api.CodeTag},
		{api.Tag{TagKey: "aws:owner", TagValue: "v"}, api.CodeTag},
		{api.Tag{TagKey: "AWS:owner", TagValue: "v"}, api.CodeTag},
		{api.Tag{TagKey: "k\n", TagValue: "v"}, api.CodeTag},
	}
	for _, c := range bad {
		wantCode(t, s.TagResource(ctx, &api.TagResourceInput{KeyId: id, Tags: []api.Tag{c.tag}}), c.code)
	}
	// 128 characters (not bytes) is the limit.
	wantCode(t, s.TagResource(ctx, &api.TagResourceInput{KeyId: id, Tags: []api.Tag{{TagKey: strings.Repeat("é", 128), TagValue: ""}}}), "")

	var many []api.Tag
	for i := range 48 {
		many = append(many, api.Tag{TagKey: fmt.Sprintf("t%02d", i), TagValue: "v"})
	}
	wantCode(t, s.TagResource(ctx, &api.TagResourceInput{KeyId: id, Tags: many}), "")
	wantCode(t, s.TagResource(ctx, &api.TagResourceInput{KeyId: id, Tags: []api.Tag{{TagKey: "one-too-many", TagValue: ""}}}), api.CodeLimitExceeded)
	var keys []string
	marker := ""
	for {
		out, err := s.ListResourceTags(ctx, &api.ListResourceTagsInput{KeyId: id, Limit: api.Int32(20), Marker: marker})
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
	_, err = s.ListResourceTags(ctx, &api.ListResourceTagsInput{KeyId: id, Limit: api.Int32(51)})
	wantCode(t, err, api.CodeValidation)
	_, err = s.ListResourceTags(ctx, &api.ListResourceTagsInput{KeyId: "alias/x"})
	wantCode(t, err, api.CodeNotFound)
}
