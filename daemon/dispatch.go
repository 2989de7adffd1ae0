package daemon

import (
	"context"
	"errors"

	"kmsd/daemon/kms"
	"kmsd/wire"
)

// handler runs one operation on the service.
type handler func(ctx context.Context, s *kms.Service, in wire.Message) (wire.Message, error)

// out adapts a service method that returns a response.
func out[In, Out any, PI interface {
	*In
	wire.Message
}, PO interface {
	*Out
	wire.Message
}](f func(*kms.Service, context.Context, *In) (*Out, error)) handler {
	return func(ctx context.Context, s *kms.Service, in wire.Message) (wire.Message, error) {
		o, err := f(s, ctx, (*In)(in.(PI)))
		if err != nil {
			return nil, err
		}
		return PO(o), nil
	}
}

// noOut adapts a service method that returns only an error.
func noOut[In any, PI interface {
	*In
	wire.Message
}](f func(*kms.Service, context.Context, *In) error) handler {
	return func(ctx context.Context, s *kms.Service, in wire.Message) (wire.Message, error) {
		if err := f(s, ctx, (*In)(in.(PI))); err != nil {
			return nil, err
		}
		return &wire.Empty{}, nil
	}
}

// handlers maps every service operation to its method. Hello and Status
// are answered by the connection itself.
var handlers = map[string]handler{
	wire.OpCreateKey:                       out((*kms.Service).CreateKey),
	wire.OpDescribeKey:                     out((*kms.Service).DescribeKey),
	wire.OpListKeys:                        out((*kms.Service).ListKeys),
	wire.OpUpdateKeyDescription:            noOut((*kms.Service).UpdateKeyDescription),
	wire.OpEnableKey:                       noOut((*kms.Service).EnableKey),
	wire.OpDisableKey:                      noOut((*kms.Service).DisableKey),
	wire.OpScheduleKeyDeletion:             out((*kms.Service).ScheduleKeyDeletion),
	wire.OpCancelKeyDeletion:               out((*kms.Service).CancelKeyDeletion),
	wire.OpCreateAlias:                     noOut((*kms.Service).CreateAlias),
	wire.OpUpdateAlias:                     noOut((*kms.Service).UpdateAlias),
	wire.OpDeleteAlias:                     noOut((*kms.Service).DeleteAlias),
	wire.OpListAliases:                     out((*kms.Service).ListAliases),
	wire.OpTagResource:                     noOut((*kms.Service).TagResource),
	wire.OpUntagResource:                   noOut((*kms.Service).UntagResource),
	wire.OpListResourceTags:                out((*kms.Service).ListResourceTags),
	wire.OpEncrypt:                         out((*kms.Service).Encrypt),
	wire.OpDecrypt:                         out((*kms.Service).Decrypt),
	wire.OpReEncrypt:                       out((*kms.Service).ReEncrypt),
	wire.OpGenerateDataKey:                 out((*kms.Service).GenerateDataKey),
	wire.OpGenerateDataKeyWithoutPlaintext: out((*kms.Service).GenerateDataKeyWithoutPlaintext),
	wire.OpGenerateRandom:                  out((*kms.Service).GenerateRandom),
	wire.OpEnableKeyRotation:               noOut((*kms.Service).EnableKeyRotation),
	wire.OpDisableKeyRotation:              noOut((*kms.Service).DisableKeyRotation),
	wire.OpGetKeyRotationStatus:            out((*kms.Service).GetKeyRotationStatus),
	wire.OpRotateKeyOnDemand:               out((*kms.Service).RotateKeyOnDemand),
	wire.OpListKeyRotations:                out((*kms.Service).ListKeyRotations),
	wire.OpPutKeyPolicy:                    noOut((*kms.Service).PutKeyPolicy),
	wire.OpGetKeyPolicy:                    out((*kms.Service).GetKeyPolicy),
	wire.OpListKeyPolicies:                 out((*kms.Service).ListKeyPolicies),
	wire.OpCreateGrant:                     out((*kms.Service).CreateGrant),
	wire.OpListGrants:                      out((*kms.Service).ListGrants),
	wire.OpListRetirableGrants:             out((*kms.Service).ListRetirableGrants),
	wire.OpRetireGrant:                     noOut((*kms.Service).RetireGrant),
	wire.OpRevokeGrant:                     noOut((*kms.Service).RevokeGrant),
}

// handler returns the function that serves an operation: the service's
// method, or the server's own for what the audit trail answers.
func (s *Server) handler(op string) handler {
	switch op {
	case wire.OpGetKeyLastUsage:
		return s.getKeyLastUsage
	case wire.OpGetUsage:
		return s.getUsage
	case wire.OpVerifyAuditCheckpoints:
		return s.verifyAuditCheckpoints
	}
	return handlers[op]
}

// call runs op and returns its response or a wire error. Plaintext in the
// request is zeroed once the service is done with it.
func (s *Server) call(ctx context.Context, op *wire.OpSpec, in wire.Message) (wire.Message, *wire.Error) {
	h := s.handler(op.Name)
	if h == nil {
		return nil, &wire.Error{Code: wire.CodeUnknownOperation, Message: op.Name + " is not served on this socket"}
	}
	o, err := h(ctx, s.cfg.Service, in)
	if e, ok := in.(*wire.EncryptInput); ok {
		clear(e.Plaintext)
	}
	if err != nil {
		var we *wire.Error
		if errors.As(err, &we) {
			return nil, we
		}
		s.log.Error("operation failed", "op", op.Name, "err", err)
		return nil, &wire.Error{Code: wire.CodeInternal, Message: op.Name + " failed inside kmsd; the daemon log has the cause"}
	}
	return o, nil
}

// wipeOutput zeroes plaintext a response held, once it is encoded.
func wipeOutput(m wire.Message) {
	switch o := m.(type) {
	case *wire.DecryptOutput:
		clear(o.Plaintext)
	case *wire.GenerateDataKeyOutput:
		clear(o.Plaintext)
	case *wire.GenerateRandomOutput:
		clear(o.Plaintext)
	}
}
