package daemon

import (
	"context"
	"errors"

	"kmsd/daemon/kms"
	"kmsd/wire/api"
)

// handler runs one operation on the service.
type handler func(ctx context.Context, s *kms.Service, in api.Message) (api.Message, error)

// out adapts a service method that returns a response.
func out[In, Out any, PI interface {
	*In
	api.Message
}, PO interface {
	*Out
	api.Message
}](f func(*kms.Service, context.Context, *In) (*Out, error)) handler {
	return func(ctx context.Context, s *kms.Service, in api.Message) (api.Message, error) {
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
	api.Message
}](f func(*kms.Service, context.Context, *In) error) handler {
	return func(ctx context.Context, s *kms.Service, in api.Message) (api.Message, error) {
		if err := f(s, ctx, (*In)(in.(PI))); err != nil {
			return nil, err
		}
		return &api.Empty{}, nil
	}
}

// handlers maps every service operation to its method. Hello and Status
// are answered by the connection itself.
var handlers = map[string]handler{
	api.OpCreateKey:                       out((*kms.Service).CreateKey),
	api.OpDescribeKey:                     out((*kms.Service).DescribeKey),
	api.OpListKeys:                        out((*kms.Service).ListKeys),
	api.OpUpdateKeyDescription:            noOut((*kms.Service).UpdateKeyDescription),
	api.OpEnableKey:                       noOut((*kms.Service).EnableKey),
	api.OpDisableKey:                      noOut((*kms.Service).DisableKey),
	api.OpScheduleKeyDeletion:             out((*kms.Service).ScheduleKeyDeletion),
	api.OpCancelKeyDeletion:               out((*kms.Service).CancelKeyDeletion),
	api.OpCreateAlias:                     noOut((*kms.Service).CreateAlias),
	api.OpUpdateAlias:                     noOut((*kms.Service).UpdateAlias),
	api.OpDeleteAlias:                     noOut((*kms.Service).DeleteAlias),
	api.OpListAliases:                     out((*kms.Service).ListAliases),
	api.OpTagResource:                     noOut((*kms.Service).TagResource),
	api.OpUntagResource:                   noOut((*kms.Service).UntagResource),
	api.OpListResourceTags:                out((*kms.Service).ListResourceTags),
	api.OpEncrypt:                         out((*kms.Service).Encrypt),
	api.OpDecrypt:                         out((*kms.Service).Decrypt),
	api.OpReEncrypt:                       out((*kms.Service).ReEncrypt),
	api.OpGenerateDataKey:                 out((*kms.Service).GenerateDataKey),
	api.OpGenerateDataKeyWithoutPlaintext: out((*kms.Service).GenerateDataKeyWithoutPlaintext),
	api.OpGenerateRandom:                  out((*kms.Service).GenerateRandom),
	api.OpEnableKeyRotation:               noOut((*kms.Service).EnableKeyRotation),
	api.OpDisableKeyRotation:              noOut((*kms.Service).DisableKeyRotation),
	api.OpGetKeyRotationStatus:            out((*kms.Service).GetKeyRotationStatus),
	api.OpRotateKeyOnDemand:               out((*kms.Service).RotateKeyOnDemand),
	api.OpListKeyRotations:                out((*kms.Service).ListKeyRotations),
	api.OpPutKeyPolicy:                    noOut((*kms.Service).PutKeyPolicy),
	api.OpGetKeyPolicy:                    out((*kms.Service).GetKeyPolicy),
	api.OpListKeyPolicies:                 out((*kms.Service).ListKeyPolicies),
	api.OpCreateGrant:                     out((*kms.Service).CreateGrant),
	api.OpListGrants:                      out((*kms.Service).ListGrants),
	api.OpListRetirableGrants:             out((*kms.Service).ListRetirableGrants),
	api.OpRetireGrant:                     noOut((*kms.Service).RetireGrant),
	api.OpRevokeGrant:                     noOut((*kms.Service).RevokeGrant),
	api.OpGetParametersForImport:          out((*kms.Service).GetParametersForImport),
	api.OpImportKeyMaterial:               out((*kms.Service).ImportKeyMaterial),
	api.OpDeleteImportedKeyMaterial:       out((*kms.Service).DeleteImportedKeyMaterial),
	api.OpCreateCustomKeyStore:            out((*kms.Service).CreateCustomKeyStore),
	api.OpDescribeCustomKeyStores:         out((*kms.Service).DescribeCustomKeyStores),
	api.OpUpdateCustomKeyStore:            noOut((*kms.Service).UpdateCustomKeyStore),
	api.OpConnectCustomKeyStore:           noOut((*kms.Service).ConnectCustomKeyStore),
	api.OpDisconnectCustomKeyStore:        noOut((*kms.Service).DisconnectCustomKeyStore),
	api.OpDeleteCustomKeyStore:            noOut((*kms.Service).DeleteCustomKeyStore),
}

// handler returns the function that serves an operation: the service's
// method, or the server's own for what the audit trail answers.
func (s *Server) handler(op string) handler {
	switch op {
	case api.OpGetKeyLastUsage:
		return s.getKeyLastUsage
	case api.OpGetUsage:
		return s.getUsage
	case api.OpVerifyAuditCheckpoints:
		return s.verifyAuditCheckpoints
	case api.OpCreateBackup:
		return s.createBackup
	case api.OpGetBackupPart:
		return s.getBackupPart
	case api.OpRotateRootKey:
		return s.rotateRootKey
	case api.OpCreateAccessKey:
		return s.createAccessKey
	case api.OpListAccessKeys:
		return s.listAccessKeys
	case api.OpDeleteAccessKey:
		return s.deleteAccessKey
	}
	return handlers[op]
}

// call runs op and returns its response or a wire error. Plaintext in the
// request is zeroed once the service is done with it.
func (s *Server) call(ctx context.Context, op *api.OpSpec, in api.Message) (api.Message, *api.Error) {
	h := s.handler(op.Name)
	if h == nil {
		return nil, &api.Error{Code: api.CodeUnknownOperation, Message: op.Name + " is not served on this socket"}
	}
	o, err := h(ctx, s.cfg.Service, in)
	if e, ok := in.(*api.EncryptInput); ok {
		clear(e.Plaintext)
	}
	if err != nil {
		var we *api.Error
		if errors.As(err, &we) {
			return nil, we
		}
		s.log.Error("operation failed", "op", op.Name, "err", err)
		return nil, &api.Error{Code: api.CodeInternal, Message: op.Name + " failed inside kmsd; the daemon log has the cause"}
	}
	return o, nil
}

// wipeOutput zeroes plaintext a response held, once it is encoded.
func wipeOutput(m api.Message) {
	switch o := m.(type) {
	case *api.DecryptOutput:
		clear(o.Plaintext)
	case *api.GenerateDataKeyOutput:
		clear(o.Plaintext)
	case *api.GenerateRandomOutput:
		clear(o.Plaintext)
	}
}
