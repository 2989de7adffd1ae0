package kms

import (
	"context"
	"kmsd/daemon/policy"
	"regexp"
	"strings"

	"kmsd/keystore"
	"kmsd/wire/api"
)

// The fixed parts of kmsd ARNs: one host has no partitions, regions or
// accounts.
const (
	ARNPrefix = "arn:kmsd:kms:local:000000000000:"
	AccountID = "000000000000"
)

const maxKeyIDLen = 2048

func keyARN(id keystore.KeyID) string { return ARNPrefix + "key/" + id.String() }

func aliasARN(name string) string { return ARNPrefix + name }

var aliasNameRE = regexp.MustCompile(`^alias/[a-zA-Z0-9:/_-]+$`)

// Reserved alias prefixes: alias/aws/ as in AWS, alias/managed/ for keys
// kmsd creates for systemd units.
var reservedAliasPrefixes = []string{"alias/aws/", "alias/managed/"}

// resolveAlias finds the key alias name means to p (p nil: kmsd itself,
// the administrators' namespace). An alias whose key p may not see is
// answered as one that does not exist.
func (s *Service) resolveAlias(p *policy.Principal, name string) (*entry, error) {
	s.mu.RLock()
	a := s.findAlias(p, name)
	var e *entry
	if a != nil {
		e = s.keys[a.TargetKeyID]
	}
	s.mu.RUnlock()
	if e != nil && p != nil {
		e.mu.RLock()
		visible := visibleTo(e, p)
		e.mu.RUnlock()
		if !visible {
			e = nil
		}
	}
	if e == nil {
		return nil, aliasNotFound(name)
	}
	return e, nil
}

// aliasNotFound is the answer for an alias that is not there, or whose key
// the caller may not see.
func aliasNotFound(name string) error {
	return errorf(api.CodeNotFound, "alias %s is not found", aliasARN(name))
}

// checkAliasName applies AWS's alias name rules to a name a caller wants to
// create or change.
func checkAliasName(name string) error {
	if len(name) == 0 || len(name) > 256 {
		return errorf(api.CodeValidation, "AliasName must be 1 to 256 characters")
	}
	if !aliasNameRE.MatchString(name) || name == "alias/" {
		return errorf(api.CodeInvalidAliasName, "alias name %q must begin with alias/ and contain only a-z A-Z 0-9 : / _ -", name)
	}
	for _, p := range reservedAliasPrefixes {
		if strings.HasPrefix(name, p) {
			return errorf(api.CodeInvalidAliasName, "alias names that begin with %s are reserved", p)
		}
	}
	return nil
}

// resolve finds the key a KeyId names. useOp says whether the operation
// "uses" the key (crypto operations and DescribeKey), the only ones where
// an alias may name it; an alias means what it means to the caller
// (aliases.go), and one whose key the caller may not see is not found,
// exactly as one that does not exist.
func (s *Service) resolve(ctx context.Context, keyID string, useOp bool) (*entry, error) {
	if keyID == "" {
		return nil, errorf(api.CodeValidation, "KeyId is required")
	}
	if len(keyID) > maxKeyIDLen {
		return nil, errorf(api.CodeValidation, "KeyId must be at most %d characters", maxKeyIDLen)
	}
	if strings.HasPrefix(keyID, "arn:") {
		rest, ok := strings.CutPrefix(keyID, ARNPrefix)
		if !ok {
			return nil, errorf(api.CodeInvalidArn, "%q is not a kmsd ARN (they begin %s)", keyID, ARNPrefix)
		}
		if strings.HasPrefix(rest, "alias/") {
			keyID = rest
		} else if id, ok := strings.CutPrefix(rest, "key/"); ok {
			keyID = id
		} else {
			return nil, errorf(api.CodeInvalidArn, "%q names neither a key nor an alias", keyID)
		}
	}
	if strings.HasPrefix(keyID, "alias/") {
		if !useOp {
			return nil, errorf(api.CodeNotFound, "invalid keyId %q: this operation takes a key id or key ARN, not an alias", keyID)
		}
		return s.resolveAlias(policy.From(ctx), keyID)
	}
	id, err := keystore.ParseKeyID(keyID)
	if err != nil {
		return nil, errorf(api.CodeNotFound, "invalid keyId %q", keyID)
	}
	if e := s.lookup(id); e != nil {
		return e, nil
	}
	return nil, errorf(api.CodeNotFound, "key '%s' does not exist", keyARN(id))
}

func (s *Service) lookup(id keystore.KeyID) *entry {
	s.mu.RLock()
	e := s.keys[id]
	s.mu.RUnlock()
	return e
}
