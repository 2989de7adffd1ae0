package daemon

import (
	"context"
	"errors"

	"kmsd/daemon/kms"
	"kmsd/daemon/policy"
	"kmsd/wire/api"
)

// maxStaleRetries is how many times a change that conflicted with
// another host's runs in all.
const maxStaleRetries = 4

// call executes a single request of op (the pipeline's Exec) and returns
// its response or a wire error, and what the service reported doing:
// after the table's access check (api.OpSpec.Access), its handler
// (handlers, generated from the table). Plaintext in the request is
// zeroed once the service is done with it.
func (s *Server) call(ctx context.Context, op *api.OpSpec, in api.Message) (api.Message, kms.Report, *api.Error) {
	h := handlers[op.Name]
	if h == nil {
		return nil, kms.Report{}, &api.Error{Code: api.CodeUnknownOperation, Message: op.Name + " is not served on this socket"}
	}
	if werr := s.mayCall(ctx, op); werr != nil {
		api.WipeInput(in)
		return nil, kms.Report{}, werr
	}
	o, rep, err := kms.Reported(ctx, func(ctx context.Context) (api.Message, error) { return h(ctx, s, in) })
	// In a fleet, a change that met another host's change to what it read
	// runs again once this host has caught up, and so answers from what
	// the other host did (an alias taken is AlreadyExistsException).
	for try := 1; try < maxStaleRetries && errors.Is(err, kms.ErrStale); try++ {
		if cerr := s.cfg.Service.CatchUp(ctx); cerr != nil {
			s.log.Warn("catching up with the fleet's store before running a change again failed", "op", op.Name, "err", cerr)
			break
		}
		o, rep, err = kms.Reported(ctx, func(ctx context.Context) (api.Message, error) { return h(ctx, s, in) })
	}
	api.WipeInput(in)
	if err != nil {
		var we *api.Error
		if errors.As(err, &we) {
			return nil, rep, we
		}
		s.log.Error("operation failed", "op", op.Name, "err", err)
		return nil, rep, &api.Error{Code: api.CodeInternal, Message: op.Name + " failed inside kmsd; the daemon log has the cause"}
	}
	return o, rep, nil
}

// callBatch executes items [lo, hi) of a batch of op (the pipeline's
// ExecBatch) with the service's batch method of the operation
// (batchHandlers, generated from the table).
func (s *Server) callBatch(ctx context.Context, op *api.OpSpec, inputs any, lo, hi int, sink kms.Sink) {
	h := batchHandlers[op.Name]
	if h == nil { // DecodeRequest refuses batches of other operations
		for i := range hi - lo {
			sink.Fail(i, nil, &api.Error{Code: api.CodeValidation, Message: op.Name + " cannot be batched"})
		}
		return
	}
	h(ctx, s.cfg.Service, inputs, lo, hi, sink)
}

// mayCall checks the table's access rule for op: root alone, root and
// the admin group, or anyone (key policies and grants decide the rest).
func (s *Server) mayCall(ctx context.Context, op *api.OpSpec) *api.Error {
	switch op.Access {
	case api.RootOnly:
		if p := policy.From(ctx); p == nil || p.UID != 0 {
			return &api.Error{Code: api.CodeAccessDenied, Message: "only root may call " + op.Name}
		}
	case api.Admins:
		if !s.cfg.Service.IsAdmin(ctx) {
			return &api.Error{Code: api.CodeAccessDenied, Message: "only root and the admin group may call " + op.Name}
		}
	}
	return nil
}
