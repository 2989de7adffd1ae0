package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strings"

	"kmsd/wire/api"
	"kmsd/wire/awsjson"
)

// Parameter forms, as the AWS CLI takes them:
//   blob:    fileb://PATH (raw bytes) or base64 text
//   string:  text, or file://PATH (the file's contents)
//   context: k=v,k2=v2 or a JSON object
//   tags:    TagKey=k,TagValue=v (one per argument) or a JSON list

// rawBlobs is --cli-binary-format raw-in-base64-out: a blob argument that
// is not fileb:// is its text's bytes, not base64.
var rawBlobs bool

// readBlob reads a blob parameter: fileb://PATH is the file's bytes;
// file://PATH is its text, read as the argument would be (base64, or with
// --cli-binary-format raw-in-base64-out the text's bytes), as the aws CLI
// version 2 reads it.
func readBlob(name, v string) ([]byte, error) {
	if v == "" {
		return nil, nil
	}
	if path, ok := strings.CutPrefix(v, "fileb://"); ok {
		b, err := readFile(path)
		if err != nil {
			return nil, fmt.Errorf("--%s: %w", name, err)
		}
		return b, nil
	}
	if path, ok := strings.CutPrefix(v, "file://"); ok {
		b, err := readFile(path)
		if err != nil {
			return nil, fmt.Errorf("--%s: %w", name, err)
		}
		if rawBlobs {
			return b, nil // the text's bytes are the blob
		}
		v = string(b)
		clear(b)
	}
	if rawBlobs {
		return []byte(v), nil
	}
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(v))
	if err != nil {
		return nil, fmt.Errorf("--%s: not valid base64 (use fileb://PATH for a file of raw bytes): %w", name, err)
	}
	return b, nil
}

// readText resolves file:// in a string parameter.
func readText(name, v string) (string, error) {
	if path, ok := strings.CutPrefix(v, "file://"); ok {
		b, err := readFile(path)
		if err != nil {
			return "", fmt.Errorf("--%s: %w", name, err)
		}
		return strings.TrimRight(string(b), "\n"), nil
	}
	return v, nil
}

// readFile reads the file of a file:// or fileb:// parameter, with a
// leading ~ or ~USER expanded as a shell would (and the aws CLI does):
// the shell leaves "file://~/x" alone.
func readFile(path string) ([]byte, error) {
	path, err := expandHome(path)
	if err != nil {
		return nil, err
	}
	return os.ReadFile(path)
}

// expandHome expands a leading ~ (the home directory, $HOME) or ~USER
// (that user's) in path.
func expandHome(path string) (string, error) {
	rest, ok := strings.CutPrefix(path, "~")
	if !ok {
		return path, nil
	}
	who, tail, _ := strings.Cut(rest, "/")
	var home string
	if who == "" {
		h, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("cannot expand ~ in %s: %w", path, err)
		}
		home = h
	} else {
		u, err := user.Lookup(who)
		if err != nil {
			return "", fmt.Errorf("cannot expand ~%s in %s: %w", who, path, err)
		}
		home = u.HomeDir
	}
	if tail == "" && !strings.HasSuffix(rest, "/") {
		return home, nil
	}
	return filepath.Join(home, tail), nil
}

// readContext parses an encryption context parameter.
func readContext(name, v string) (map[string]string, error) {
	v, err := readText(name, v)
	if err != nil || v == "" {
		return nil, err
	}
	// A context is the bytes the user gave: text that would be read with
	// replacements (U+FFFD) is refused, not changed.
	if err := awsjson.CheckText([]byte(v)); err != nil {
		return nil, fmt.Errorf("--%s: %w", name, err)
	}
	if strings.HasPrefix(strings.TrimSpace(v), "{") {
		var m map[string]string
		d := json.NewDecoder(strings.NewReader(v))
		d.DisallowUnknownFields()
		if err := d.Decode(&m); err != nil {
			return nil, fmt.Errorf("--%s: not a JSON object of strings: %w", name, err)
		}
		return m, nil
	}
	m := map[string]string{}
	for _, pair := range strings.Split(v, ",") {
		k, val, ok := strings.Cut(pair, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--%s: %q is not key=value", name, pair)
		}
		if _, dup := m[k]; dup {
			return nil, fmt.Errorf("--%s: key %q given twice", name, k)
		}
		m[k] = val
	}
	return m, nil
}

// readTags parses --tags: each argument TagKey=k,TagValue=v, or one JSON list.
func readTags(args []string) ([]api.Tag, error) {
	var tags []api.Tag
	for _, a := range args {
		a, err := readText("tags", a)
		if err != nil {
			return nil, err
		}
		if strings.HasPrefix(strings.TrimSpace(a), "[") {
			var more []struct{ TagKey, TagValue *string }
			d := json.NewDecoder(strings.NewReader(a))
			d.DisallowUnknownFields()
			if err := d.Decode(&more); err != nil {
				return nil, fmt.Errorf("--tags: not a JSON list of {TagKey, TagValue}: %w", err)
			}
			for _, m := range more {
				if err := tagMissing(len(tags), m.TagKey != nil, m.TagValue != nil); err != nil {
					return nil, err
				}
				tags = append(tags, api.Tag{TagKey: *m.TagKey, TagValue: *m.TagValue})
			}
			continue
		}
		var t api.Tag
		var hasKey, hasValue bool
		for _, part := range strings.Split(a, ",") {
			k, v, _ := strings.Cut(part, "=")
			switch k {
			case "TagKey":
				t.TagKey, hasKey = v, true
			case "TagValue":
				t.TagValue, hasValue = v, true
			default:
				return nil, fmt.Errorf("--tags: %q: want TagKey=KEY,TagValue=VALUE", a)
			}
		}
		if err := tagMissing(len(tags), hasKey, hasValue); err != nil {
			return nil, err
		}
		tags = append(tags, t)
	}
	return tags, nil
}

// tagMissing is the aws CLI's complaint about tag i without its key or
// value: both are required, an empty value being TagValue= (or "").
func tagMissing(i int, hasKey, hasValue bool) error {
	switch {
	case !hasKey:
		return fmt.Errorf("--tags: missing required parameter in Tags[%d]: \"TagKey\"", i)
	case !hasValue:
		return fmt.Errorf("--tags: missing required parameter in Tags[%d]: \"TagValue\" (an empty value is TagValue=)", i)
	}
	return nil
}

// readList parses a list parameter given as separate arguments or as one
// JSON list.
func readList(name string, args []string) ([]string, error) {
	if len(args) == 1 && strings.HasPrefix(strings.TrimSpace(args[0]), "[") {
		var out []string
		if err := json.Unmarshal([]byte(args[0]), &out); err != nil {
			return nil, fmt.Errorf("--%s: %w", name, err)
		}
		return out, nil
	}
	return args, nil
}
