package kms

import "kmsd/wire/api"

// The key-state rules are AWS's "Key states of AWS KMS keys" table for
// the operations kmsd has, in the four states a kmsd key can be in
// (Enabled allows everything but CancelKeyDeletion); the operation table
// declares each operation's (api.OpSpec.KeyStates). For PendingDeletion,
// AWS documents either DisabledException or KMSInvalidStateException for
// the crypto operations; kmsd returns KMSInvalidStateException. The
// rotation operations on keys with imported material (origin EXTERNAL)
// are refused before the rules with UnsupportedOperationException.

// checkState applies the key-state table to an operation on key e. The
// caller holds e.mu.
func checkState(op string, e *entry) error {
	if e.deleted {
		return errorf(api.CodeNotFound, "key '%s' does not exist", e.arn)
	}
	var rule *api.StateRule
	if spec := api.Lookup(op); spec != nil {
		rule = spec.KeyStates
	}
	if rule == nil {
		return errorf(api.CodeInternal, "no key-state rule for %s", op) // fail closed
	}
	state := e.rec.KeyState
	var code string
	switch state {
	case api.KeyStateEnabled:
		if rule.OnlyPending {
			code = api.CodeInvalidState
		}
	case api.KeyStateDisabled:
		code = rule.Disabled
	case api.KeyStatePendingDeletion:
		code = rule.PendingDeletion
	case api.KeyStatePendingImport:
		code = rule.PendingImport
	default:
		return errorf(api.CodeInternal, "key %s is in unknown state %q", e.arn, state)
	}
	switch {
	case code == "":
		return nil
	case rule.OnlyPending:
		return errorf(code, "%s is not pending deletion", e.arn)
	case state == api.KeyStateDisabled && code == api.CodeDisabled:
		return errorf(code, "%s is disabled", e.arn)
	case state == api.KeyStateDisabled:
		return errorf(code, "%s is disabled, which %s does not allow", e.arn, op)
	case state == api.KeyStatePendingDeletion:
		return errorf(code, "%s is pending deletion", e.arn)
	default:
		return errorf(code, "%s is pending import", e.arn)
	}
}
