package kms

import (
	"context"
	"fmt"
	"kmsd/daemon/policy"
	"regexp"
	"strings"

	"kmsd/keystore"
	"kmsd/wire/api"
)

// ARNs are AWS's, arn:aws:kms:REGION:ACCOUNT:key/ID and
// arn:aws:kms:REGION:ACCOUNT:alias/NAME, so that tools built on the AWS
// SDKs take them; the region and account are the service's settings, by
// default these. ARNs of the form kmsd used before (LegacyARNPrefix) are
// still accepted.
const (
	DefaultRegion    = "local"
	DefaultAccountID = "000000000000"
	LegacyARNPrefix  = "arn:kmsd:kms:local:000000000000:"
)

var (
	regionRE  = regexp.MustCompile(`^[a-z][a-z0-9-]{0,30}[a-z0-9]$`)
	accountRE = regexp.MustCompile(`^[0-9]{12}$`)
	// arnRE is a KMS ARN of any partition, region and account.
	arnRE = regexp.MustCompile(`^arn:aws[a-z-]*:kms:([a-z0-9-]*):([0-9]*):((?:key|alias)/.*)$`)
)

// ValidateARNParts checks a region (lower-case letters, digits and
// hyphens, as AWS's) and an account id (12 digits).
func ValidateARNParts(region, account string) error {
	if !regionRE.MatchString(region) {
		return fmt.Errorf("region %q: want lower-case letters, digits and hyphens, such as us-east-1 or local", region)
	}
	if !accountRE.MatchString(account) {
		return fmt.Errorf("account id %q: want 12 digits", account)
	}
	return nil
}

// KeyARN is the ARN of the key id.
func (s *Service) KeyARN(id string) string { return s.arnPrefix + "key/" + id }

// trimARN turns one of this service's ARNs into the key id or alias name
// it names, and returns anything else as it is.
func (s *Service) trimARN(keyID string) string {
	if rest, ok := strings.CutPrefix(keyID, s.arnPrefix); ok {
		return rest
	}
	if rest, ok := strings.CutPrefix(keyID, LegacyARNPrefix); ok {
		return rest
	}
	return keyID
}

const maxKeyIDLen = 2048

func (s *Service) keyARN(id keystore.KeyID) string { return s.arnPrefix + "key/" + id.String() }

func (s *Service) aliasARN(name string) string { return s.arnPrefix + name }

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
		return nil, s.aliasNotFound(name)
	}
	return e, nil
}

// aliasNotFound is the answer for an alias that is not there, or whose key
// the caller may not see.
func (s *Service) aliasNotFound(name string) error {
	return errorf(api.CodeNotFound, "alias %s is not found", s.aliasARN(name))
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
	if useOp {
		if err := s.checkFresh(); err != nil {
			return nil, err
		}
	}
	if keyID == "" {
		return nil, errorf(api.CodeValidation, "KeyId is required")
	}
	if len(keyID) > maxKeyIDLen {
		return nil, errorf(api.CodeValidation, "KeyId must be at most %d characters", maxKeyIDLen)
	}
	if strings.HasPrefix(keyID, "arn:") {
		rest := s.trimARN(keyID)
		if rest == keyID {
			m := arnRE.FindStringSubmatch(keyID)
			if m == nil {
				return nil, errorf(api.CodeInvalidArn, "%q is not a KMS key or alias ARN (%skey/ID or %salias/NAME)", keyID, s.arnPrefix, s.arnPrefix)
			}
			return nil, errorf(api.CodeNotFound, "%s is not on this kmsd, whose region is %s and account %s", keyID, s.cfg.Region, s.cfg.AccountID)
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
	return nil, errorf(api.CodeNotFound, "key '%s' does not exist", s.keyARN(id))
}

func (s *Service) lookup(id keystore.KeyID) *entry {
	s.mu.RLock()
	e := s.keys[id]
	s.mu.RUnlock()
	return e
}
