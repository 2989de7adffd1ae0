package kms

import (
	"fmt"

	"kmsd/wire/api"
)

func errorf(code, format string, args ...any) *api.Error {
	return &api.Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// internal logs the cause of a failure that is not the caller's and returns
// a KMSInternalException that does not repeat it.
func (s *Service) internal(op string, err error) *api.Error {
	s.log.Error("internal error", "op", op, "err", err)
	return errorf(api.CodeInternal, "%s failed inside kmsd; the daemon log has the cause", op)
}
