package policy

import (
	"fmt"
	"slices"
	"strings"
)

const (
	keyContextPrefix = "kms:encryptioncontext:"
	keyContextKeys   = "kms:encryptioncontextkeys"
)

// condition is one (operator, key, values) test on the encryption context.
type condition struct {
	op      string // StringEquals, StringNotEquals, StringLike, StringNotLike
	set     string // "", "ForAllValues" or "ForAnyValue"
	ctxKey  string // for kms:EncryptionContext:KEY
	allKeys bool   // kms:EncryptionContextKeys
	values  []string
}

var operators = map[string]bool{"StringEquals": true, "StringNotEquals": true, "StringLike": true, "StringNotLike": true}

// parseCondition compiles one operator block, e.g.
// "ForAnyValue:StringEquals": {"kms:EncryptionContextKeys": ["a", "b"]}.
func parseCondition(opName string, block map[string][]string) ([]condition, error) {
	set, op, qualified := strings.Cut(opName, ":")
	if !qualified {
		set, op = "", opName
	} else if set != "ForAllValues" && set != "ForAnyValue" {
		return nil, fmt.Errorf("qualifier %q is not ForAllValues or ForAnyValue", set)
	}
	if !operators[op] {
		return nil, fmt.Errorf("operator %q is not supported (use StringEquals, StringNotEquals, StringLike or StringNotLike)", op)
	}
	var out []condition
	keys := make([]string, 0, len(block))
	for k := range block {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, key := range keys {
		c := condition{op: op, set: set, values: block[key]}
		lower := strings.ToLower(key)
		switch {
		case lower == keyContextKeys:
			if set == "" {
				return nil, fmt.Errorf("%s has many values: qualify %s with ForAllValues: or ForAnyValue:", key, op)
			}
			c.allKeys = true
		case strings.HasPrefix(lower, keyContextPrefix) && len(key) > len(keyContextPrefix):
			if set != "" {
				return nil, fmt.Errorf("%s has one value: %s cannot qualify it", key, set)
			}
			c.ctxKey = key[len(keyContextPrefix):]
		default:
			return nil, fmt.Errorf("condition key %q is not supported (use kms:EncryptionContext:KEY or kms:EncryptionContextKeys)", key)
		}
		if len(c.values) == 0 {
			return nil, fmt.Errorf("%s %s has no values", op, key)
		}
		out = append(out, c)
	}
	return out, nil
}

// test applies one string operator to a value.
func (c *condition) test(v string) bool {
	switch c.op {
	case "StringEquals":
		return slices.Contains(c.values, v)
	case "StringNotEquals":
		return !slices.Contains(c.values, v)
	case "StringLike":
		return slices.ContainsFunc(c.values, func(p string) bool { return glob(p, v) })
	default: // StringNotLike
		return !slices.ContainsFunc(c.values, func(p string) bool { return glob(p, v) })
	}
}

func (c *condition) negated() bool { return c.op == "StringNotEquals" || c.op == "StringNotLike" }

// holds evaluates the condition against a request's encryption context
// (nil for operations without one).
func (c *condition) holds(ec map[string]string) bool {
	if !c.allKeys {
		v, ok := ec[c.ctxKey]
		if !ok {
			return c.negated()
		}
		return c.test(v)
	}
	if c.set == "ForAllValues" {
		for k := range ec {
			if !c.test(k) {
				return false
			}
		}
		return true // vacuously, as in AWS
	}
	for k := range ec {
		if c.test(k) {
			return true
		}
	}
	return false
}
