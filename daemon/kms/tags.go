package kms

import (
	"context"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"kmsd/keystore"
	"kmsd/wire/api"
)

// AWS's tag limits.
const (
	maxTagKeyLen   = 128
	maxTagValueLen = 256
	maxTags        = 50
)

// checkTag applies AWS's rules: a key of 1 to 128 characters and a value of
// at most 256, UTF-8 without control characters; keys beginning "aws:" are
// reserved.
func checkTag(t api.Tag) error {
	if n := utf8.RuneCountInString(t.TagKey); n < 1 || n > maxTagKeyLen || !utf8.ValidString(t.TagKey) {
		return errorf(api.CodeTag, "TagKey must be 1 to %d characters of UTF-8", maxTagKeyLen)
	}
	if utf8.RuneCountInString(t.TagValue) > maxTagValueLen || !utf8.ValidString(t.TagValue) {
		return errorf(api.CodeTag, "TagValue of %q must be at most %d characters of UTF-8", t.TagKey, maxTagValueLen)
	}
	if strings.HasPrefix(strings.ToLower(t.TagKey), "aws:") {
		return errorf(api.CodeTag, "tag keys beginning with aws: are reserved")
	}
	if strings.ContainsFunc(t.TagKey+t.TagValue, unicode.IsControl) {
		return errorf(api.CodeTag, "tag %q contains a control character", t.TagKey)
	}
	return nil
}

// mergeTags adds tags to have, replacing values of keys already there, and
// returns the result sorted by key. Over 50 tags is LimitExceededException.
func mergeTags(have []keystore.Tag, add []api.Tag) ([]keystore.Tag, error) {
	out := slices.Clone(have)
	for _, t := range add {
		if err := checkTag(t); err != nil {
			return nil, err
		}
		i := slices.IndexFunc(out, func(x keystore.Tag) bool { return x.TagKey == t.TagKey })
		if i >= 0 {
			out[i].TagValue = t.TagValue
		} else {
			out = append(out, keystore.Tag{TagKey: t.TagKey, TagValue: t.TagValue})
		}
	}
	if len(out) > maxTags {
		return nil, errorf(api.CodeLimitExceeded, "a key can have at most %d tags", maxTags)
	}
	slices.SortFunc(out, func(a, b keystore.Tag) int { return strings.Compare(a.TagKey, b.TagKey) })
	return out, nil
}

// TagResource adds or replaces tags on a key.
func (s *Service) TagResource(ctx context.Context, in *api.TagResourceInput) error {
	if len(in.Tags) == 0 {
		return errorf(api.CodeValidation, "Tags is required")
	}
	_, err := s.update(ctx, api.OpTagResource, in.KeyId, func(_ *entry, r *keystore.KeyRecord) (bool, error) {
		tags, err := mergeTags(r.Tags, in.Tags)
		r.Tags = tags
		return err == nil, err
	})
	return err
}

// UntagResource removes tags by key; a key that is not there is not an
// error, as in AWS.
func (s *Service) UntagResource(ctx context.Context, in *api.UntagResourceInput) error {
	if len(in.TagKeys) == 0 {
		return errorf(api.CodeValidation, "TagKeys is required")
	}
	for _, k := range in.TagKeys {
		if n := utf8.RuneCountInString(k); n < 1 || n > maxTagKeyLen {
			return errorf(api.CodeTag, "TagKey must be 1 to %d characters", maxTagKeyLen)
		}
	}
	_, err := s.update(ctx, api.OpUntagResource, in.KeyId, func(_ *entry, r *keystore.KeyRecord) (bool, error) {
		n := len(r.Tags)
		r.Tags = slices.DeleteFunc(r.Tags, func(t keystore.Tag) bool { return slices.Contains(in.TagKeys, t.TagKey) })
		return len(r.Tags) != n, nil
	})
	return err
}

// ListResourceTags lists a key's tags in key order.
func (s *Service) ListResourceTags(ctx context.Context, in *api.ListResourceTagsInput) (*api.ListResourceTagsOutput, error) {
	limit, err := pageLimit(in.Limit, 50, 50)
	if err != nil {
		return nil, err
	}
	out := &api.ListResourceTagsOutput{Tags: []api.Tag{}}
	err = s.view(ctx, api.OpListResourceTags, in.KeyId, false, nil, func(e *entry) error {
		tags := e.rec.Tags
		if in.Marker != "" {
			i := slices.IndexFunc(tags, func(t keystore.Tag) bool { return t.TagKey > in.Marker })
			if i < 0 {
				i = len(tags)
			}
			tags = tags[i:]
		}
		if len(tags) > limit {
			tags = tags[:limit]
			out.Truncated, out.NextMarker = true, tags[limit-1].TagKey
		}
		for _, t := range tags {
			out.Tags = append(out.Tags, api.Tag{TagKey: t.TagKey, TagValue: t.TagValue})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
