package api

import "errors"

// Exception names, as AWS KMS returns them. They are the stable error codes
// of kmsd on every interface.
const (
	CodeAccessDenied            = "AccessDeniedException"
	CodeAlreadyExists           = "AlreadyExistsException"
	CodeDisabled                = "DisabledException"
	CodeIncorrectKey            = "IncorrectKeyException"
	CodeInvalidAliasName        = "InvalidAliasNameException"
	CodeInvalidArn              = "InvalidArnException"
	CodeInvalidCiphertext       = "InvalidCiphertextException"
	CodeInvalidGrantToken       = "InvalidGrantTokenException"
	CodeInvalidKeyUsage         = "InvalidKeyUsageException"
	CodeInvalidMarker           = "InvalidMarkerException"
	CodeInternal                = "KMSInternalException"
	CodeInvalidState            = "KMSInvalidStateException"
	CodeLimitExceeded           = "LimitExceededException"
	CodeNotFound                = "NotFoundException"
	CodeTag                     = "TagException"
	CodeThrottling              = "ThrottlingException"
	CodeUnsupportedOperation    = "UnsupportedOperationException"
	CodeValidation              = "ValidationException"
	CodeMalformedPolicy         = "MalformedPolicyDocumentException"
	CodeConflict                = "ConflictException"
	CodeDependencyTimeout       = "DependencyTimeoutException"
	CodeKeyUnavailable          = "KeyUnavailableException"
	CodeDryRunOperation         = "DryRunOperationException"
	CodeInvalidGrantID          = "InvalidGrantIdException"
	CodeIncorrectKeyMaterial    = "IncorrectKeyMaterialException"
	CodeExpiredImportToken      = "ExpiredImportTokenException"
	CodeInvalidImportToken      = "InvalidImportTokenException"
	CodeCustomKeyStoreMissing   = "CustomKeyStoreNotFoundException"
	CodeCustomKeyStoreState     = "CustomKeyStoreInvalidStateException"
	CodeCustomKeyStoreHasKeys   = "CustomKeyStoreHasCMKsException"
	CodeCustomKeyStoreName      = "CustomKeyStoreNameInUseException"
	CodeCloudHsmClusterNotFound = "CloudHsmClusterNotFoundException"
	CodeUnknownOperation        = "UnknownOperationException"
	CodeInvalidSignature        = "KMSInvalidSignatureException"
	CodeInvalidMac              = "KMSInvalidMacException"
)

// Error is what every operation returns on failure, on the wire and in Go: an AWS exception name
// and a message for people. Messages never hold plaintext, key material or
// ciphertext.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// CodeOf returns the exception name of err: its Code if it is an *Error,
// KMSInternalException for any other non-nil error, "" for nil.
func CodeOf(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}
