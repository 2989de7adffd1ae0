package fusefs

import (
	"syscall"
	"testing"

	"kmsd/wire/api"
)

func TestErrno(t *testing.T) {
	cases := []struct {
		code string
		want syscall.Errno
	}{
		{api.CodeNotFound, syscall.ENOENT},
		{api.CodeAccessDenied, syscall.EACCES},
		{api.CodeValidation, syscall.EINVAL},
		{api.CodeInvalidCiphertext, syscall.EINVAL},
		{api.CodeIncorrectKey, syscall.EINVAL},
		{api.CodeDisabled, syscall.EINVAL},
		{api.CodeInvalidState, syscall.EINVAL},
		{api.CodeThrottling, syscall.EAGAIN},
		{api.CodeInternal, syscall.EIO},
	}
	for _, c := range cases {
		if got := Errno(&api.Error{Code: c.code}); got != c.want {
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
	_, err := tr.session(t.Context()).Call(t.Context(), api.OpEncrypt, &api.EncryptInput{KeyId: "alias/x", Plaintext: []byte("x")})
	if Errno(err) != syscall.EACCES {
		t.Errorf("a request without a caller got %v, want EACCES", err)
	}
}
