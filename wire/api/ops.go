package api

import "sync"

// Operation names, as AWS spells them, plus Hello and Status.
const (
	OpHello                           = "Hello"
	OpStatus                          = "Status"
	OpCreateKey                       = "CreateKey"
	OpDescribeKey                     = "DescribeKey"
	OpListKeys                        = "ListKeys"
	OpUpdateKeyDescription            = "UpdateKeyDescription"
	OpEnableKey                       = "EnableKey"
	OpDisableKey                      = "DisableKey"
	OpScheduleKeyDeletion             = "ScheduleKeyDeletion"
	OpCancelKeyDeletion               = "CancelKeyDeletion"
	OpCreateAlias                     = "CreateAlias"
	OpUpdateAlias                     = "UpdateAlias"
	OpDeleteAlias                     = "DeleteAlias"
	OpListAliases                     = "ListAliases"
	OpTagResource                     = "TagResource"
	OpUntagResource                   = "UntagResource"
	OpListResourceTags                = "ListResourceTags"
	OpEncrypt                         = "Encrypt"
	OpDecrypt                         = "Decrypt"
	OpReEncrypt                       = "ReEncrypt"
	OpGenerateDataKey                 = "GenerateDataKey"
	OpGenerateDataKeyWithoutPlaintext = "GenerateDataKeyWithoutPlaintext"
	OpGenerateRandom                  = "GenerateRandom"
	OpEnableKeyRotation               = "EnableKeyRotation"
	OpDisableKeyRotation              = "DisableKeyRotation"
	OpGetKeyRotationStatus            = "GetKeyRotationStatus"
	OpRotateKeyOnDemand               = "RotateKeyOnDemand"
	OpListKeyRotations                = "ListKeyRotations"
	OpPutKeyPolicy                    = "PutKeyPolicy"
	OpGetKeyPolicy                    = "GetKeyPolicy"
	OpListKeyPolicies                 = "ListKeyPolicies"
	OpCreateGrant                     = "CreateGrant"
	OpListGrants                      = "ListGrants"
	OpListRetirableGrants             = "ListRetirableGrants"
	OpRetireGrant                     = "RetireGrant"
	OpRevokeGrant                     = "RevokeGrant"
	OpGetKeyLastUsage                 = "GetKeyLastUsage"
	OpGetUsage                        = "GetUsage"
	OpVerifyAuditCheckpoints          = "VerifyAuditCheckpoints"
	OpCreateBackup                    = "CreateBackup"
	OpGetBackupPart                   = "GetBackupPart"
	OpRotateRootKey                   = "RotateRootKey"
	OpGetParametersForImport          = "GetParametersForImport"
	OpImportKeyMaterial               = "ImportKeyMaterial"
	OpDeleteImportedKeyMaterial       = "DeleteImportedKeyMaterial"
	OpCreateCustomKeyStore            = "CreateCustomKeyStore"
	OpDescribeCustomKeyStores         = "DescribeCustomKeyStores"
	OpUpdateCustomKeyStore            = "UpdateCustomKeyStore"
	OpConnectCustomKeyStore           = "ConnectCustomKeyStore"
	OpDisconnectCustomKeyStore        = "DisconnectCustomKeyStore"
	OpDeleteCustomKeyStore            = "DeleteCustomKeyStore"
	OpCreateAccessKey                 = "CreateAccessKey"
	OpListAccessKeys                  = "ListAccessKeys"
	OpDeleteAccessKey                 = "DeleteAccessKey"
)

// Empty is the body of requests and responses that carry nothing.
type Empty struct{}

// Message is a request or response body: a pointer to one of this
// package's structures. The set is closed: the codec of package wire
// encodes exactly these types.
type Message interface{ message() }

// OpSpec describes one operation: its request and response types and
// whether it may be batched.
//
//wire:skip (not a message)
type OpSpec struct {
	Name      string
	NewInput  func() Message
	NewOutput func() Message
	// NewInputs makes a batch's inputs, n of the input type in one slice
	// ([]EncryptInput for Encrypt), and Input returns item i of such a
	// slice as a Message (a pointer into it).
	NewInputs func(n int) any
	Input     func(inputs any, i int) Message
	// FreeInputs gives back, zeroed, a slice NewInputs made, for a later
	// NewInputs to use again: a batch's inputs are large, and the same
	// operation comes in batches again.
	FreeInputs func(inputs any)
	// NewOutputs and Output are the same for a batch's outputs.
	NewOutputs func(n int) any
	Output     func(outputs any, i int) Message
	// Batch operations may be sent in a batch request.
	Batch bool
	// Crypto operations use a key's material; the rest manage keys.
	Crypto bool
	// Own operations are kmsd's, not AWS KMS's (Hello, Status, GetUsage,
	// VerifyAuditCheckpoints, CreateBackup, GetBackupPart, RotateRootKey,
	// and the access keys' Create, List and Delete):
	// they are recorded, but usage counts leave them out.
	Own bool
}

// own marks an operation as kmsd's own.
func own(s OpSpec) OpSpec {
	s.Own = true
	return s
}

// IsKMSOperation reports whether name is one of AWS KMS's operations
// that kmsd serves (not one of kmsd's own).
func IsKMSOperation(name string) bool {
	s := Lookup(name)
	return s != nil && !s.Own
}

func spec[In, Out any, PI interface {
	*In
	Message
}, PO interface {
	*Out
	Message
}](name string, batch, crypto bool) OpSpec {
	var free sync.Pool // of *[]In, zeroed
	return OpSpec{Name: name, Batch: batch, Crypto: crypto,
		NewInput:  func() Message { return PI(new(In)) },
		NewOutput: func() Message { return PO(new(Out)) },
		NewInputs: func(n int) any {
			if p, ok := free.Get().(*[]In); ok && cap(*p) >= n {
				return (*p)[:n]
			}
			return make([]In, n)
		},
		FreeInputs: func(inputs any) {
			s, ok := inputs.([]In)
			if !ok || cap(s) == 0 {
				return
			}
			s = s[:cap(s)]
			clear(s)
			free.Put(&s)
		},
		Input:      func(inputs any, i int) Message { return PI(&inputs.([]In)[i]) },
		NewOutputs: func(n int) any { return make([]Out, n) },
		Output:     func(outputs any, i int) Message { return PO(&outputs.([]Out)[i]) }}
}

var opList = []OpSpec{
	own(spec[HelloInput, HelloOutput](OpHello, false, false)),
	own(spec[StatusInput, StatusOutput](OpStatus, false, false)),
	spec[CreateKeyInput, KeyMetadataOutput](OpCreateKey, false, false),
	spec[DescribeKeyInput, KeyMetadataOutput](OpDescribeKey, false, false),
	spec[ListKeysInput, ListKeysOutput](OpListKeys, false, false),
	spec[UpdateKeyDescriptionInput, Empty](OpUpdateKeyDescription, false, false),
	spec[KeyIDInput, Empty](OpEnableKey, false, false),
	spec[KeyIDInput, Empty](OpDisableKey, false, false),
	spec[ScheduleKeyDeletionInput, ScheduleKeyDeletionOutput](OpScheduleKeyDeletion, false, false),
	spec[KeyIDInput, KeyIDOutput](OpCancelKeyDeletion, false, false),
	spec[AliasInput, Empty](OpCreateAlias, false, false),
	spec[AliasInput, Empty](OpUpdateAlias, false, false),
	spec[DeleteAliasInput, Empty](OpDeleteAlias, false, false),
	spec[ListAliasesInput, ListAliasesOutput](OpListAliases, false, false),
	spec[TagResourceInput, Empty](OpTagResource, false, false),
	spec[UntagResourceInput, Empty](OpUntagResource, false, false),
	spec[ListResourceTagsInput, ListResourceTagsOutput](OpListResourceTags, false, false),
	spec[EncryptInput, EncryptOutput](OpEncrypt, true, true),
	spec[DecryptInput, DecryptOutput](OpDecrypt, true, true),
	spec[ReEncryptInput, ReEncryptOutput](OpReEncrypt, true, true),
	spec[GenerateDataKeyInput, GenerateDataKeyOutput](OpGenerateDataKey, true, true),
	spec[GenerateDataKeyInput, GenerateDataKeyOutput](OpGenerateDataKeyWithoutPlaintext, true, true),
	spec[GenerateRandomInput, GenerateRandomOutput](OpGenerateRandom, false, true),
	spec[EnableKeyRotationInput, Empty](OpEnableKeyRotation, false, false),
	spec[KeyIDInput, Empty](OpDisableKeyRotation, false, false),
	spec[KeyIDInput, GetKeyRotationStatusOutput](OpGetKeyRotationStatus, false, false),
	spec[KeyIDInput, KeyIDOutput](OpRotateKeyOnDemand, false, false),
	spec[ListKeyRotationsInput, ListKeyRotationsOutput](OpListKeyRotations, false, false),
	spec[PutKeyPolicyInput, Empty](OpPutKeyPolicy, false, false),
	spec[GetKeyPolicyInput, GetKeyPolicyOutput](OpGetKeyPolicy, false, false),
	spec[ListKeyPoliciesInput, ListKeyPoliciesOutput](OpListKeyPolicies, false, false),
	spec[CreateGrantInput, CreateGrantOutput](OpCreateGrant, false, false),
	spec[ListGrantsInput, ListGrantsOutput](OpListGrants, false, false),
	spec[ListRetirableGrantsInput, ListGrantsOutput](OpListRetirableGrants, false, false),
	spec[RetireGrantInput, Empty](OpRetireGrant, false, false),
	spec[RevokeGrantInput, Empty](OpRevokeGrant, false, false),
	spec[KeyIDInput, GetKeyLastUsageOutput](OpGetKeyLastUsage, false, false),
	own(spec[GetUsageInput, GetUsageOutput](OpGetUsage, false, false)),
	own(spec[VerifyAuditCheckpointsInput, VerifyAuditCheckpointsOutput](OpVerifyAuditCheckpoints, false, false)),
	own(spec[CreateBackupInput, CreateBackupOutput](OpCreateBackup, false, false)),
	own(spec[GetBackupPartInput, GetBackupPartOutput](OpGetBackupPart, false, false)),
	own(spec[RotateRootKeyInput, RotateRootKeyOutput](OpRotateRootKey, false, false)),
	spec[GetParametersForImportInput, GetParametersForImportOutput](OpGetParametersForImport, false, false),
	spec[ImportKeyMaterialInput, ImportKeyMaterialOutput](OpImportKeyMaterial, false, false),
	spec[DeleteImportedKeyMaterialInput, DeleteImportedKeyMaterialOutput](OpDeleteImportedKeyMaterial, false, false),
	spec[CreateCustomKeyStoreInput, CreateCustomKeyStoreOutput](OpCreateCustomKeyStore, false, false),
	spec[DescribeCustomKeyStoresInput, DescribeCustomKeyStoresOutput](OpDescribeCustomKeyStores, false, false),
	spec[UpdateCustomKeyStoreInput, Empty](OpUpdateCustomKeyStore, false, false),
	spec[CustomKeyStoreIDInput, Empty](OpConnectCustomKeyStore, false, false),
	spec[CustomKeyStoreIDInput, Empty](OpDisconnectCustomKeyStore, false, false),
	spec[CustomKeyStoreIDInput, Empty](OpDeleteCustomKeyStore, false, false),
	own(spec[CreateAccessKeyInput, CreateAccessKeyOutput](OpCreateAccessKey, false, false)),
	own(spec[ListAccessKeysInput, ListAccessKeysOutput](OpListAccessKeys, false, false)),
	own(spec[DeleteAccessKeyInput, Empty](OpDeleteAccessKey, false, false)),
}

var ops = func() map[string]*OpSpec {
	m := make(map[string]*OpSpec, len(opList))
	for i := range opList {
		m[opList[i].Name] = &opList[i]
	}
	return m
}()

// Lookup returns the operation of that name, or nil.
func Lookup(name string) *OpSpec { return ops[name] }

// Ops lists every operation, in a fixed order.
func Ops() []OpSpec { return append([]OpSpec(nil), opList...) }
