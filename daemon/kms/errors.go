package kms

import (
	"errors"
	"fmt"
)

// Exception names, as AWS KMS returns them. They are the stable error codes
// of kmsd on every interface.
const (
	CodeAccessDenied          = "AccessDeniedException"
	CodeAlreadyExists         = "AlreadyExistsException"
	CodeDisabled              = "DisabledException"
	CodeIncorrectKey          = "IncorrectKeyException"
	CodeInvalidAliasName      = "InvalidAliasNameException"
	CodeInvalidArn            = "InvalidArnException"
	CodeInvalidCiphertext     = "InvalidCiphertextException"
	CodeInvalidGrantToken     = "InvalidGrantTokenException"
	CodeInvalidKeyUsage       = "InvalidKeyUsageException"
	CodeInvalidMarker         = "InvalidMarkerException"
	CodeInternal              = "KMSInternalException"
	CodeInvalidState          = "KMSInvalidStateException"
	CodeLimitExceeded         = "LimitExceededException"
	CodeNotFound              = "NotFoundException"
	CodeTag                   = "TagException"
	CodeThrottling            = "ThrottlingException"
	CodeUnsupportedOperation  = "UnsupportedOperationException"
	CodeValidation            = "ValidationException"
	CodeMalformedPolicy       = "MalformedPolicyDocumentException"
	CodeConflict              = "ConflictException"
	CodeDependencyTimeout     = "DependencyTimeoutException"
	CodeKeyUnavailable        = "KeyUnavailableException"
	CodeDryRunOperation       = "DryRunOperationException"
	CodeInvalidGrantID        = "InvalidGrantIdException"
	CodeIncorrectKeyMaterial  = "IncorrectKeyMaterialException"
	CodeExpiredImportToken    = "ExpiredImportTokenException"
	CodeInvalidImportToken    = "InvalidImportTokenException"
	CodeCustomKeyStoreMissing = "CustomKeyStoreNotFoundException"
)

// Error is what every operation returns on failure: an AWS exception name
// and a message for people. Messages never hold plaintext, key material or
// ciphertext.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

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

// internal logs the cause of a failure that is not the caller's and returns
// a KMSInternalException that does not repeat it.
func (s *Service) internal(op string, err error) *Error {
	s.log.Error("internal error", "op", op, "err", err)
	return errorf(CodeInternal, "%s failed inside kmsd; the daemon log has the cause", op)
}
