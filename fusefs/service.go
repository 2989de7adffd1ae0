package fusefs

import (
	"context"
	"errors"
	"syscall"

	"kmsd/wire/api"
)

// Service is what the tree needs of kmsd: a way to act as the process
// behind a FUSE request. The daemon implements it; this package never sees
// the store or the keys.
type Service interface {
	// Session resolves the caller of one FUSE request into an identity.
	// pid is the kernel's thread id of the caller (0 when it could not
	// tell), uid and gid its filesystem ids. Every call made through the
	// session is authorized and audited as that caller, with source "fuse".
	Session(pid uint32, uid, gid uint32) Session
}

// Session runs operations for one caller. A handle takes its session at
// open and keeps it, so a descriptor passed to another process still acts
// as the process that opened it.
type Session interface {
	// Call runs op (a wire operation name) with in and returns its
	// output, or a *api.Error.
	Call(ctx context.Context, op string, in api.Message) (api.Message, error)
}

// Errno maps an error of a Session call to the errno a shell sees:
//
//	NotFoundException                                  ENOENT
//	AccessDeniedException                              EACCES
//	ValidationException, InvalidCiphertextException,
//	IncorrectKeyException, InvalidKeyUsageException,
//	DisabledException, KMSInvalidStateException,
//	InvalidGrantTokenException and other caller errors  EINVAL
//	KMSInvalidSignatureException, KMSInvalidMacException EBADMSG
//	ThrottlingException, LimitExceededException         EAGAIN
//	KMSInternalException and anything else              EIO
func Errno(err error) syscall.Errno {
	if err == nil {
		return 0
	}
	var we *api.Error
	if !errors.As(err, &we) {
		return syscall.EIO
	}
	switch we.Code {
	case api.CodeNotFound:
		return syscall.ENOENT
	case api.CodeAccessDenied:
		return syscall.EACCES
	case api.CodeThrottling, api.CodeLimitExceeded:
		return syscall.EAGAIN
	case api.CodeInvalidSignature, api.CodeInvalidMac:
		return syscall.EBADMSG
	case api.CodeInternal, api.CodeDependencyTimeout, api.CodeKeyUnavailable, api.CodeUnknownOperation:
		return syscall.EIO
	}
	return syscall.EINVAL
}
