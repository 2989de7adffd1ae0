package pipeline

import (
	"context"
	"time"

	"kmsd/daemon/kms"
	"kmsd/daemon/policy"
	"kmsd/wire/api"
)

// Caller is who a request comes from: the context the service reads the
// principal from, the principal, and its name in records and usage.
type Caller struct {
	Ctx       context.Context
	P         *policy.Principal
	Principal string
}

// NewCaller is the caller p, its context derived from ctx.
func NewCaller(ctx context.Context, p *policy.Principal) Caller {
	return Caller{Ctx: policy.WithPrincipal(ctx, p), P: p, Principal: p.String()}
}

// Request is one request of any front end on its way through the
// pipeline: the operation, who asks, and how it is answered. It is one of
// two kinds, told apart by its Reply: a single request (a [Single]
// reply, with In), or a chunk of a batch (an [Items] reply, with
// Batch and the chunk's items [Lo, Hi)).
type Request struct {
	Op     *api.OpSpec
	Caller *Caller
	Reply  Replier
	// Start is when the request was read, for the metrics (zero without).
	Start time.Time

	In api.Message // a single request's input

	Batch  *Batch // a chunk's batch
	Lo, Hi int    // the chunk's items

	outcomes outcomeSink // a chunk's: where its items' outcomes are noted (no allocation per chunk)
}

// Replier answers a request for the front end it came from. Reject
// answers one that was never worked on (a full queue, a trail that
// cannot be written).
type Replier interface {
	Reject(werr *api.Error)
}

// Single is the reply of a single request. The worker names the request
// for its record (RequestID), hands it the result (Prepare, on the
// worker: the socket encodes its answer there) and, once the record is
// written, has it answer (Commit; with failed, the error that answers
// instead because the record could not be written).
type Single interface {
	Replier
	RequestID() string
	Prepare(out api.Message, werr *api.Error)
	Commit(failed *api.Error)
}

// Items is the reply of a chunk of a batch: the service answers each
// item into Sink (the front end's buffer for the chunk), and Reject
// answers every item of the chunk with one error.
type Items interface {
	Replier
	Sink() kms.Sink
}

// probe is a watchdog's probe (Pipeline.Probe): a request that is
// answered, by being taken, when a worker takes it.
type probe chan struct{}

func (p probe) Reject(*api.Error) {}
