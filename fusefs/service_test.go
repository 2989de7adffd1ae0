package fusefs

import (
	"syscall"
	"testing"

	"kmsd/wire"
)

func TestErrno(t *testing.T) {
	cases := []struct {
		code string
		want syscall.Errno
	}{
		{wire.CodeNotFound, syscall.ENOENT},
		{wire.CodeAccessDenied, syscall.EACCES},
		{wire.CodeValidation, syscall.EINVAL},
		{wire.CodeInvalidCiphertext, syscall.EINVAL},
		{wire.CodeIncorrectKey, syscall.EINVAL},
		{wire.CodeDisabled, syscall.EINVAL},
		{wire.CodeInvalidState, syscall.EINVAL},
		{wire.CodeThrottling, syscall.EAGAIN},
		{wire.CodeInternal, syscall.EIO},
	}
	for _, c := range cases {
		if got := Errno(&wire.Error{Code: c.code}); got != c.want {
			t.Errorf("Errno(%s) = %v, want %v", c.code, got, c.want)
		}
	}
	if Errno(nil) != 0 || Errno(syscall.EPERM) != syscall.EIO {
		t.Error("Errno of nil or of a non-wire error")
	}
}

// A request that carries no caller acts as nobody: refused, never root.
func TestNoCallerIsRefused(t *testing.T) {
	tr := &tree{svc: nil}
	_, err := tr.session(t.Context()).Call(t.Context(), wire.OpEncrypt, &wire.EncryptInput{KeyId: "alias/x", Plaintext: []byte("x")})
	if Errno(err) != syscall.EACCES {
		t.Errorf("a request without a caller got %v, want EACCES", err)
	}
}
