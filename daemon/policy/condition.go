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

// The single-valued condition keys a request has besides its encryption
// context, in lower case: the keys of the attrs passed to DecideWith.
const (
	CondSigningAlgorithm      = "kms:signingalgorithm"
	CondMacAlgorithm          = "kms:macalgorithm"
	CondEncryptionAlgorithm   = "kms:encryptionalgorithm"
	CondKeyAgreementAlgorithm = "kms:keyagreementalgorithm"
	CondMessageType           = "kms:messagetype"
	CondKeySpec               = "kms:keyspec"
	CondKeyUsage              = "kms:keyusage"
)

var requestKeys = map[string]bool{CondSigningAlgorithm: true, CondMacAlgorithm: true, CondEncryptionAlgorithm: true,
	CondKeyAgreementAlgorithm: true, CondMessageType: true, CondKeySpec: true, CondKeyUsage: true}

// condition is one (operator, key, values) test on the encryption context.
type condition struct {
	op      string // StringEquals, StringNotEquals, StringLike, StringNotLike
	set     string // "", "ForAllValues" or "ForAnyValue"
	ctxKey  string // for kms:EncryptionContext:KEY
	allKeys bool   // kms:EncryptionContextKeys
	attr    string // for a request key (CondSigningAlgorithm, ...)
	values  []string
	like    bool      // StringLike or StringNotLike
	not     bool      // StringNotEquals or StringNotLike
	pats    []pattern // values, compiled, for the Like operators
}

// pattern is a StringLike value compiled to the cheapest test that
// matches it: equality, a prefix, or the general glob.
type pattern struct {
	s    string
	kind uint8 // 0 exact, 1 prefix ("abc*"), 2 glob
}

func compilePattern(p string) pattern {
	i := strings.IndexAny(p, "*?")
	switch {
	case i < 0:
		return pattern{s: p}
	case i == len(p)-1 && p[i] == '*':
		return pattern{s: p[:i], kind: 1}
	}
	return pattern{s: p, kind: 2}
}

func (p *pattern) match(v string) bool {
	switch p.kind {
	case 0:
		return v == p.s
	case 1:
		return strings.HasPrefix(v, p.s)
	}
	return glob(p.s, v)
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
				return nil, fmt.Errorf("%s has many values: qualify %s with ForAllValues or ForAnyValue", key, op)
			}
			c.allKeys = true
		case requestKeys[lower]:
			if set != "" {
				return nil, fmt.Errorf("%s has one value: %s cannot qualify it", key, set)
			}
			c.attr = lower
		case strings.HasPrefix(lower, keyContextPrefix) && len(key) > len(keyContextPrefix):
			if set != "" {
				return nil, fmt.Errorf("%s has one value: %s cannot qualify it", key, set)
			}
			c.ctxKey = key[len(keyContextPrefix):]
		default:
			return nil, fmt.Errorf("condition key %q is not supported (use kms:EncryptionContext:KEY, kms:EncryptionContextKeys, kms:SigningAlgorithm, kms:MacAlgorithm, kms:EncryptionAlgorithm, kms:KeyAgreementAlgorithm, kms:MessageType, kms:KeySpec or kms:KeyUsage)", key)
		}
		if len(c.values) == 0 {
			return nil, fmt.Errorf("%s %s has no values", op, key)
		}
		c.like = op == "StringLike" || op == "StringNotLike"
		c.not = op == "StringNotEquals" || op == "StringNotLike"
		for _, v := range c.values {
			c.pats = append(c.pats, compilePattern(v))
		}
		out = append(out, c)
	}
	return out, nil
}

// test applies one string operator to a value.
func (c *condition) test(v string) bool {
	found := false
	if c.like {
		for i := range c.pats {
			if c.pats[i].match(v) {
				found = true
				break
			}
		}
	} else {
		found = slices.Contains(c.values, v)
	}
	return found != c.not
}

func (c *condition) negated() bool { return c.not }

// holds evaluates the condition against a request's encryption context
// (nil for operations without one) whose keys, in any order, are keys.
func (c *condition) holds(ec map[string]string, keys []string, attrs map[string]string) bool {
	if c.attr != "" {
		v, ok := attrs[c.attr]
		if !ok {
			return c.negated()
		}
		return c.test(v)
	}
	if !c.allKeys {
		v, ok := ec[c.ctxKey]
		if !ok {
			return c.negated()
		}
		return c.test(v)
	}
	if c.set == "ForAllValues" {
		for _, k := range keys {
			if !c.test(k) {
				return false
			}
		}
		return true // vacuously, as in AWS
	}
	for _, k := range keys {
		if c.test(k) {
			return true
		}
	}
	return false
}
