package kms

import "kmsd/wire"

// stateRule says what an operation does in each key state that can refuse
// it: "" allows, anything else is the exception to return.
type stateRule struct{ disabled, pendingDeletion, pendingImport string }

var (
	allowAll   = stateRule{}
	cryptoRule = stateRule{wire.CodeDisabled, wire.CodeInvalidState, wire.CodeInvalidState}
	// Changes to a key that is about to be deleted are refused.
	notPendingDeletion = stateRule{pendingDeletion: wire.CodeInvalidState}
)

// stateTable is AWS's "Key states of AWS KMS keys" table for the
// operations kmsd has, in the four states a kmsd key can be in
// (Enabled allows everything). For PendingDeletion, AWS documents either
// DisabledException or KMSInvalidStateException for the crypto operations;
// kmsd returns KMSInvalidStateException. The rotation operations on keys
// with imported material (origin EXTERNAL) are refused before this table
// with UnsupportedOperationException.
var stateTable = map[string]stateRule{
	wire.OpCancelKeyDeletion:               {wire.CodeInvalidState, "", wire.CodeInvalidState}, // and Enabled: see checkState
	wire.OpCreateAlias:                     notPendingDeletion,
	wire.OpDecrypt:                         cryptoRule,
	wire.OpDeleteAlias:                     allowAll,
	wire.OpDescribeKey:                     allowAll,
	wire.OpDisableKey:                      {"", wire.CodeInvalidState, wire.CodeInvalidState},
	wire.OpDisableKeyRotation:              {wire.CodeDisabled, wire.CodeInvalidState, ""},
	wire.OpEnableKey:                       {"", wire.CodeInvalidState, wire.CodeInvalidState},
	wire.OpEnableKeyRotation:               {wire.CodeDisabled, wire.CodeInvalidState, ""},
	wire.OpEncrypt:                         cryptoRule,
	wire.OpGenerateDataKey:                 cryptoRule,
	wire.OpGenerateDataKeyWithoutPlaintext: cryptoRule,
	wire.OpGetKeyRotationStatus:            allowAll,
	wire.OpListAliases:                     allowAll,
	wire.OpListKeyRotations:                allowAll,
	wire.OpListResourceTags:                allowAll,
	wire.OpReEncrypt:                       cryptoRule,
	wire.OpRotateKeyOnDemand:               cryptoRule,
	wire.OpScheduleKeyDeletion:             notPendingDeletion,
	wire.OpTagResource:                     notPendingDeletion,
	wire.OpUntagResource:                   notPendingDeletion,
	wire.OpUpdateAlias:                     notPendingDeletion, // of the new target
	wire.OpUpdateKeyDescription:            notPendingDeletion,
	wire.OpPutKeyPolicy:                    allowAll,
	wire.OpGetKeyPolicy:                    allowAll,
	wire.OpListKeyPolicies:                 allowAll,
	wire.OpCreateGrant:                     cryptoRule,
	wire.OpListGrants:                      allowAll,
	wire.OpRetireGrant:                     allowAll,
	wire.OpRevokeGrant:                     allowAll,
	wire.OpGetKeyLastUsage:                 allowAll,
}

// checkState applies the key-state table to an operation on key e. The
// caller holds e.mu.
func checkState(op string, e *entry) error {
	if e.deleted {
		return errorf(wire.CodeNotFound, "key '%s' does not exist", e.arn)
	}
	rule, ok := stateTable[op]
	if !ok {
		return errorf(wire.CodeInternal, "no key-state rule for %s", op) // fail closed
	}
	state := e.rec.KeyState
	var code string
	switch state {
	case wire.KeyStateEnabled:
		if op == wire.OpCancelKeyDeletion {
			code = wire.CodeInvalidState
		}
	case wire.KeyStateDisabled:
		code = rule.disabled
	case wire.KeyStatePendingDeletion:
		code = rule.pendingDeletion
	case wire.KeyStatePendingImport:
		code = rule.pendingImport
	default:
		return errorf(wire.CodeInternal, "key %s is in unknown state %q", e.arn, state)
	}
	switch {
	case code == "":
		return nil
	case op == wire.OpCancelKeyDeletion:
		return errorf(code, "%s is not pending deletion", e.arn)
	case state == wire.KeyStateDisabled && code == wire.CodeDisabled:
		return errorf(code, "%s is disabled", e.arn)
	case state == wire.KeyStateDisabled:
		return errorf(code, "%s is disabled, which %s does not allow", e.arn, op)
	case state == wire.KeyStatePendingDeletion:
		return errorf(code, "%s is pending deletion", e.arn)
	default:
		return errorf(code, "%s is pending import", e.arn)
	}
}
