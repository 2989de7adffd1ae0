package api

import (
	"strings"
	"sync"
	"unicode"
)

// Operation names, as AWS spells them, plus Hello and Status.
const (
	OpHello                               = "Hello"
	OpStatus                              = "Status"
	OpCreateKey                           = "CreateKey"
	OpDescribeKey                         = "DescribeKey"
	OpListKeys                            = "ListKeys"
	OpUpdateKeyDescription                = "UpdateKeyDescription"
	OpEnableKey                           = "EnableKey"
	OpDisableKey                          = "DisableKey"
	OpScheduleKeyDeletion                 = "ScheduleKeyDeletion"
	OpCancelKeyDeletion                   = "CancelKeyDeletion"
	OpCreateAlias                         = "CreateAlias"
	OpUpdateAlias                         = "UpdateAlias"
	OpDeleteAlias                         = "DeleteAlias"
	OpListAliases                         = "ListAliases"
	OpTagResource                         = "TagResource"
	OpUntagResource                       = "UntagResource"
	OpListResourceTags                    = "ListResourceTags"
	OpEncrypt                             = "Encrypt"
	OpDecrypt                             = "Decrypt"
	OpReEncrypt                           = "ReEncrypt"
	OpGenerateDataKey                     = "GenerateDataKey"
	OpGenerateDataKeyWithoutPlaintext     = "GenerateDataKeyWithoutPlaintext"
	OpGenerateRandom                      = "GenerateRandom"
	OpEnableKeyRotation                   = "EnableKeyRotation"
	OpDisableKeyRotation                  = "DisableKeyRotation"
	OpGetKeyRotationStatus                = "GetKeyRotationStatus"
	OpRotateKeyOnDemand                   = "RotateKeyOnDemand"
	OpListKeyRotations                    = "ListKeyRotations"
	OpPutKeyPolicy                        = "PutKeyPolicy"
	OpGetKeyPolicy                        = "GetKeyPolicy"
	OpListKeyPolicies                     = "ListKeyPolicies"
	OpCreateGrant                         = "CreateGrant"
	OpListGrants                          = "ListGrants"
	OpListRetirableGrants                 = "ListRetirableGrants"
	OpRetireGrant                         = "RetireGrant"
	OpRevokeGrant                         = "RevokeGrant"
	OpGetKeyLastUsage                     = "GetKeyLastUsage"
	OpGetUsage                            = "GetUsage"
	OpVerifyAuditCheckpoints              = "VerifyAuditCheckpoints"
	OpCreateBackup                        = "CreateBackup"
	OpGetBackupPart                       = "GetBackupPart"
	OpRotateRootKey                       = "RotateRootKey"
	OpGetParametersForImport              = "GetParametersForImport"
	OpImportKeyMaterial                   = "ImportKeyMaterial"
	OpDeleteImportedKeyMaterial           = "DeleteImportedKeyMaterial"
	OpCreateCustomKeyStore                = "CreateCustomKeyStore"
	OpDescribeCustomKeyStores             = "DescribeCustomKeyStores"
	OpUpdateCustomKeyStore                = "UpdateCustomKeyStore"
	OpConnectCustomKeyStore               = "ConnectCustomKeyStore"
	OpDisconnectCustomKeyStore            = "DisconnectCustomKeyStore"
	OpDeleteCustomKeyStore                = "DeleteCustomKeyStore"
	OpCreateAccessKey                     = "CreateAccessKey"
	OpListAccessKeys                      = "ListAccessKeys"
	OpDeleteAccessKey                     = "DeleteAccessKey"
	OpSign                                = "Sign"
	OpVerify                              = "Verify"
	OpGetPublicKey                        = "GetPublicKey"
	OpGenerateMac                         = "GenerateMac"
	OpVerifyMac                           = "VerifyMac"
	OpDeriveSharedSecret                  = "DeriveSharedSecret"
	OpGenerateDataKeyPair                 = "GenerateDataKeyPair"
	OpGenerateDataKeyPairWithoutPlaintext = "GenerateDataKeyPairWithoutPlaintext"
)

// Empty is the body of requests and responses that carry nothing.
type Empty struct{}

// Message is a request or response body: a pointer to one of this
// package's structures. The set is closed: the codec of package wire
// encodes exactly these types.
type Message interface{ message() }

// OpSpec describes one operation: the one place it is declared. Its
// request and response types, whether it may be batched, which pool
// serves it, who may call it, what its audit record keeps and what
// kmsctl and the Go client call it all come from here: the handlers'
// registration, the client's methods and kmsctl's command list are
// generated from this table (internal/opsgen; a test fails when they are
// stale), and the audit parameters are read from it.
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
	// Crypto operations use a key's material and are served by the
	// crypto workers; the rest manage keys, on the management workers.
	Crypto bool
	// Own operations are kmsd's, not AWS KMS's: they are recorded, but
	// usage counts leave them out, and the AWS endpoint does not serve
	// them.
	Own bool
	// Help says what the operation does, in a line: kmsctl's help for its
	// command and the Go client's documentation of its method.
	Help string
	// Access is who may call it at all; key policies and grants decide
	// the rest.
	Access Access
	// Served is who answers it.
	Served Served
	// Command is kmsctl's command for it, as a Go field name: "" for the
	// operation's name, NoCommand for none. Its flags are the request's
	// fields (generated, as the aws CLI derives its flags from its model)
	// unless OwnCommand says kmsctl writes the command itself (NAMECmd).
	Command    string
	OwnCommand bool
	// Required are the request's fields a caller must give: kmsctl's
	// required flags, as AWS's model marks its members required.
	Required []string
	// Internal operations are sent by the client library itself (Hello):
	// the Go client has no method for them.
	Internal bool
	// Params are what a management request's audit record keeps of what
	// was asked and answered, in order: a later one of the same key
	// replaces an earlier when it is not empty.
	Params []Param
	// WipeOutput and WipeInput name the field of the response, and of the
	// request, that holds plaintext: zeroed once the answer is encoded,
	// and once the service is done with the request.
	WipeOutput, WipeInput string
	// KeyStates is what the operation does to a key in each state that
	// can refuse it (AWS's "Key states of AWS KMS keys" table); nil for an
	// operation that acts on no key's state, which the service refuses
	// to apply to one (it fails closed).
	KeyStates *StateRule
	// KeyUse operations are cryptographic uses of a key: the key's last
	// use (GetKeyLastUsage) is the last of them that succeeded.
	KeyUse bool
	// Costly operations take a worker long (GetParametersForImport makes
	// an RSA-4096 key pair): they are admitted per user, at a rate and
	// one at a time, and never on every management worker at once, so
	// that one user's load cannot starve another's (package pipeline).
	Costly bool
}

// StateRule is what an operation does in each key state that can refuse
// it: "" allows it, anything else is the exception it is refused with.
// Enabled allows every operation but CancelKeyDeletion (OnlyPending).
//
//wire:skip (not a message)
type StateRule struct {
	Disabled, PendingDeletion, PendingImport string
	// OnlyPending is CancelKeyDeletion's rule: refused in any state but
	// PendingDeletion.
	OnlyPending bool
}

// The table's key-state rules.
var (
	anyState = &StateRule{}
	// usable is the rule of the operations that use a key's material.
	usable = &StateRule{Disabled: CodeDisabled, PendingDeletion: CodeInvalidState, PendingImport: CodeInvalidState}
	// notPendingDeletion: changes to a key about to be deleted are
	// refused.
	notPendingDeletion = &StateRule{PendingDeletion: CodeInvalidState}
	// enablement: EnableKey and DisableKey.
	enablement = &StateRule{PendingDeletion: CodeInvalidState, PendingImport: CodeInvalidState}
	// rotation: enabling and disabling automatic rotation.
	rotation = &StateRule{Disabled: CodeDisabled, PendingDeletion: CodeInvalidState}
	// onlyPending: CancelKeyDeletion.
	onlyPending = &StateRule{Disabled: CodeInvalidState, PendingImport: CodeInvalidState, OnlyPending: true}
)

// Access is who may call an operation.
type Access int

const (
	// Anyone may call it; key policies, grants and the service decide.
	Anyone Access = iota
	// Admins are root and the members of kmsd's admin group.
	Admins
	// RootOnly is root alone.
	RootOnly
)

// Served is who answers an operation.
type Served int

const (
	// ByService operations are a method of the key service (daemon/kms)
	// of the same name.
	ByService Served = iota
	// ByServer operations are the server's own (the audit trail, backups,
	// the root key, access keys): a method of daemon.Server named as the
	// operation, its first letter in lower case.
	ByServer
	// ByConnection operations are answered by the connection (Hello,
	// Status).
	ByConnection
)

// NoCommand is OpSpec.Command for an operation kmsctl has no command for.
const NoCommand = "-"

// Param is one thing a management request's audit record keeps.
//
//wire:skip (not a message)
type Param struct {
	// Key names it in the record's params; "key_id" and "alias" fill the
	// record's own fields instead.
	Key string
	// From is a field of the request ("Policy"), or of the response after
	// "out." ("out.GrantId"); a dotted path reaches into a structure.
	From string
	Form ParamForm
}

// ParamForm is how a Param's value is written.
type ParamForm int

const (
	// AsIs is a string or a number as it is.
	AsIs ParamForm = iota
	// Digest is "sha256:" and the hex SHA-256 of a document: never the
	// document, which may be long or say more than the record should.
	Digest
	// Names is a list joined by commas: of strings, or of tags' keys.
	Names
	// Time is a time in RFC 3339, UTC.
	Time
	// JSON is a structure as JSON, unless all its fields are empty.
	JSON
	// GrantOfToken is the id of the grant a grant token names: a grant
	// is recorded by its id, never by a token.
	GrantOfToken
)

// in and out declare a Param from the request or the response.
func in(key, from string, form ...ParamForm) Param {
	return Param{Key: key, From: from, Form: append(form, AsIs)[0]}
}

func out(key, from string, form ...ParamForm) Param {
	return Param{Key: key, From: "out." + from, Form: append(form, AsIs)[0]}
}

// IsKMSOperation reports whether name is one of AWS KMS's operations
// that kmsd serves (not one of kmsd's own).
func IsKMSOperation(name string) bool {
	s := Lookup(name)
	return s != nil && !s.Own
}

// IsKeyUse reports whether name is a cryptographic use of a key
// (OpSpec.KeyUse).
func IsKeyUse(name string) bool {
	s := Lookup(name)
	return s != nil && s.KeyUse
}

// SafeToRepeat reports whether the operation may be sent again after a
// lost connection: crypto operations and reads (AWS names them Describe,
// List and Get; and Status) change nothing.
func (s *OpSpec) SafeToRepeat() bool {
	if s.Crypto || s.Name == OpStatus {
		return true
	}
	for _, p := range []string{"Describe", "List", "Get"} {
		if strings.HasPrefix(s.Name, p) {
			return true
		}
	}
	return false
}

// FlagName is the command-line flag of a request's field, by the aws
// CLI's rule: GrantTokens -> grant-tokens, AWSAccountId ->
// aws-account-id, Pkcs11Module -> pkcs11-module.
func FlagName(field string) string {
	r := []rune(field)
	var b strings.Builder
	for i, c := range r {
		if unicode.IsUpper(c) && i > 0 && (unicode.IsLower(r[i-1]) || unicode.IsDigit(r[i-1]) ||
			(i+1 < len(r) && unicode.IsLower(r[i+1]) && unicode.IsUpper(r[i-1]))) {
			b.WriteByte('-')
		}
		b.WriteRune(unicode.ToLower(c))
	}
	return b.String()
}

// option sets what an entry of the table declares beyond its types.
type option func(*OpSpec)

var (
	batch        option = func(s *OpSpec) { s.Batch = true }
	crypto       option = func(s *OpSpec) { s.Crypto = true }
	own          option = func(s *OpSpec) { s.Own = true }
	admins       option = func(s *OpSpec) { s.Access = Admins }
	rootOnly     option = func(s *OpSpec) { s.Access = RootOnly }
	byServer     option = func(s *OpSpec) { s.Served = ByServer }
	byConnection option = func(s *OpSpec) { s.Served = ByConnection }
	noCommand    option = func(s *OpSpec) { s.Command = NoCommand }
	internal     option = func(s *OpSpec) { s.Internal = true }
	ownCommand   option = func(s *OpSpec) { s.OwnCommand = true }
	keyUse       option = func(s *OpSpec) { s.KeyUse = true }
	costly       option = func(s *OpSpec) { s.Costly = true }
)

func states(r *StateRule) option { return func(s *OpSpec) { s.KeyStates = r } }

func command(name string) option       { return func(s *OpSpec) { s.Command = name } }
func required(fields ...string) option { return func(s *OpSpec) { s.Required = fields } }
func params(p ...Param) option         { return func(s *OpSpec) { s.Params = p } }
func wipeOutput(field string) option   { return func(s *OpSpec) { s.WipeOutput = field } }
func wipeInput(field string) option    { return func(s *OpSpec) { s.WipeInput = field } }

// op declares an operation of request In and response Out.
func op[In, Out any, PI interface {
	*In
	Message
}, PO interface {
	*Out
	Message
}](name, help string, opts ...option) OpSpec {
	var free sync.Pool // of *[]In, zeroed
	s := OpSpec{Name: name, Help: help,
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
	for _, o := range opts {
		o(&s)
	}
	return s
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
