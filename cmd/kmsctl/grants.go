package main

import (
	"encoding/json"
	"fmt"
	"strings"

	"kmsd/wire/api"
)

// readConstraints parses --constraints in the AWS CLI's shorthand
// (EncryptionContextSubset={k1=v1,k2=v2},EncryptionContextEquals={...}) or
// as JSON.
func readConstraints(v string) (api.GrantConstraints, error) {
	var c api.GrantConstraints
	v, err := readText("constraints", v)
	if err != nil || v == "" {
		return c, err
	}
	if strings.HasPrefix(strings.TrimSpace(v), "{") {
		d := json.NewDecoder(strings.NewReader(v))
		d.DisallowUnknownFields()
		if err := d.Decode(&c); err != nil {
			return c, fmt.Errorf("--constraints: %w", err)
		}
		return c, nil
	}
	for v != "" {
		name, rest, ok := strings.Cut(v, "={")
		end := strings.Index(rest, "}")
		if !ok || end < 0 {
			return c, fmt.Errorf("--constraints: want EncryptionContextSubset={k=v,...} or EncryptionContextEquals={k=v,...}")
		}
		m, err := readContext("constraints", rest[:end])
		if err != nil {
			return c, err
		}
		switch name {
		case "EncryptionContextSubset":
			c.EncryptionContextSubset = m
		case "EncryptionContextEquals":
			c.EncryptionContextEquals = m
		default:
			return c, fmt.Errorf("--constraints: unknown constraint %q", name)
		}
		v = strings.TrimPrefix(rest[end+1:], ",")
	}
	return c, nil
}
