package kms

import "kmsd/wire/api"

// stateRule says what an operation does in each key state that can refuse
// it: "" allows, anything else is the exception to return.
type stateRule struct{ disabled, pendingDeletion, pendingImport string }

var (
	allowAll   = stateRule{}
	cryptoRule = stateRule{api.CodeDisabled, api.CodeInvalidState, api.CodeInvalidState}
	// Changes to a key that is about to be deleted are refused.
	notPendingDeletion = stateRule{pendingDeletion: api.CodeInvalidState}
)

// stateTable is AWS's "Key states of AWS KMS keys" table for the
// operations kmsd has, in the four states a kmsd key can be in
// (Enabled allows everything). For PendingDeletion, AWS documents either
// DisabledException or KMSInvalidStateException for the crypto operations;
// kmsd returns KMSInvalidStateException. The rotation operations on keys
// with imported material (origin EXTERNAL) are refused before this table
// with UnsupportedOperationException.
var stateTable = map[string]stateRule{
	api.OpCancelKeyDeletion:               {api.CodeInvalidState, "", api.CodeInvalidState}, // and Enabled: see checkState
	api.OpCreateAlias:                     notPendingDeletion,
	api.OpDecrypt:                         cryptoRule,
	api.OpDeleteAlias:                     allowAll,
	api.OpDescribeKey:                     allowAll,
	api.OpDisableKey:                      {"", api.CodeInvalidState, api.CodeInvalidState},
	api.OpDisableKeyRotation:              {api.CodeDisabled, api.CodeInvalidState, ""},
	api.OpEnableKey:                       {"", api.CodeInvalidState, api.CodeInvalidState},
	api.OpEnableKeyRotation:               {api.CodeDisabled, api.CodeInvalidState, ""},
	api.OpEncrypt:                         cryptoRule,
	api.OpGenerateDataKey:                 cryptoRule,
	api.OpGenerateDataKeyWithoutPlaintext: cryptoRule,
	api.OpGetKeyRotationStatus:            allowAll,
	api.OpListAliases:                     allowAll,
	api.OpListKeyRotations:                allowAll,
	api.OpListResourceTags:                allowAll,
	api.OpReEncrypt:                       cryptoRule,
	api.OpRotateKeyOnDemand:               cryptoRule,
	api.OpScheduleKeyDeletion:             notPendingDeletion,
	api.OpTagResource:                     notPendingDeletion,
	api.OpUntagResource:                   notPendingDeletion,
	api.OpUpdateAlias:                     notPendingDeletion, // of the new target
	api.OpUpdateKeyDescription:            notPendingDeletion,
	api.OpPutKeyPolicy:                    allowAll,
	api.OpGetKeyPolicy:                    allowAll,
	api.OpListKeyPolicies:                 allowAll,
	api.OpCreateGrant:                     cryptoRule,
	api.OpListGrants:                      allowAll,
	api.OpRetireGrant:                     allowAll,
	api.OpRevokeGrant:                     allowAll,
	api.OpGetKeyLastUsage:                 allowAll,
	api.OpGetParametersForImport:          notPendingDeletion,
	api.OpImportKeyMaterial:               notPendingDeletion,
	api.OpDeleteImportedKeyMaterial:       notPendingDeletion,
}

// checkState applies the key-state table to an operation on key e. The
// caller holds e.mu.
func checkState(op string, e *entry) error {
	if e.deleted {
		return errorf(api.CodeNotFound, "key '%s' does not exist", e.arn)
	}
	rule, ok := stateTable[op]
	if !ok {
		return errorf(api.CodeInternal, "no key-state rule for %s", op) // fail closed
	}
	state := e.rec.KeyState
	var code string
	switch state {
	case api.KeyStateEnabled:
		if op == api.OpCancelKeyDeletion {
			code = api.CodeInvalidState
		}
	case api.KeyStateDisabled:
		code = rule.disabled
	case api.KeyStatePendingDeletion:
		code = rule.pendingDeletion
	case api.KeyStatePendingImport:
		code = rule.pendingImport
	default:
		return errorf(api.CodeInternal, "key %s is in unknown state %q", e.arn, state)
	}
	switch {
	case code == "":
		return nil
	case op == api.OpCancelKeyDeletion:
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
