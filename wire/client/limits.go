package client

import (
	"errors"
	"fmt"

	"kmsd/wire"
	"kmsd/wire/api"
)

// CheckLimits answers, before anything is sent, a request that breaks a
// limit kmsd announced in Hello (HelloOutput.Limits), with the error kmsd
// itself would give: a 5 MB plaintext is the service's
// ValidationException naming 4096, not a frame the server refuses to
// read. Every call checks its request so; a batch's items are for the
// caller to check.
func CheckLimits(l api.Limits, in api.Message) error {
	tooLong := func(field string, n int, max int32) error {
		if max > 0 && n > int(max) {
			return &api.Error{Code: api.CodeValidation, Message: fmt.Sprintf("%s must be 1 to %d bytes", field, max)}
		}
		return nil
	}
	switch in := in.(type) {
	case *api.EncryptInput:
		return tooLong("Plaintext", len(in.Plaintext), l.MaxPlaintext)
	case *api.DecryptInput:
		return tooLong("CiphertextBlob", len(in.CiphertextBlob), l.MaxCiphertextBlob)
	case *api.ReEncryptInput:
		return tooLong("CiphertextBlob", len(in.CiphertextBlob), l.MaxCiphertextBlob)
	}
	return nil
}

// tooLarge turns a request that does not fit in a frame into the
// ValidationException kmsd gives a request over its limits.
func tooLarge(op string, err error) error {
	if !errors.Is(err, wire.ErrFrameTooLarge) {
		return err
	}
	return &api.Error{Code: api.CodeValidation, Message: fmt.Sprintf("the %s request is over kmsd's limit of %d bytes a request (%v)", op, wire.MaxFrame, err)}
}
