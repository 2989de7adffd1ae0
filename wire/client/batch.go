package client

import (
	"context"
	"errors"
	"fmt"
	"kmsd/wire"
	"kmsd/wire/api"
	"sync"
)

// BatchResult is the answer to one item of a batch: Out, or Err.
type BatchResult[Out any] struct {
	Out *Out
	Err error

	frame *frame // the buffer Out's byte slices refer into (Release)
}

// span is a run of a batch call's results that came in one frame.
type span struct {
	frame *frame
	n     int
}

// batch is the way of the batch methods (EncryptBatch, DecryptBatch, ...
// generated from the operation table in ops_gen.go, one for each batch
// operation): it sends many items in batch frames, at most 512 items and
// about 256 KiB each (and within the server's limits), all sent at once so
// that kmsd works on one while the client encodes the next. Each item has
// its own result; the error is for the whole call (the connection, or a
// frame refused as a whole). The results are decoded in place: the byte
// slices of the results of one frame share the frame's buffer, which
// stays in memory while any of them is kept (copy one out to keep it
// alone), or goes back for reuse when the caller calls Release.
func batch[Out any, In any, PO interface {
	*Out
	api.Message
}, PI interface {
	*In
	api.Message
}](c *Client, ctx context.Context, op string, items []PI) ([]BatchResult[Out], error) {
	msgs := make([]api.Message, len(items))
	for i, it := range items {
		msgs[i] = it
	}
	results, spans, err := c.doBatch(ctx, api.Lookup(op), msgs)
	if err != nil {
		return nil, err
	}
	out := make([]BatchResult[Out], len(results))
	i := 0
	for _, sp := range spans {
		for _, r := range results[i : i+sp.n] {
			out[i].frame = sp.frame
			if r.Err != nil {
				out[i].Err = r.Err
			} else if o, ok := r.Out.(PO); ok {
				out[i].Out = (*Out)(o)
			} else {
				giveAll(spans)
				return nil, fmt.Errorf("%s: unexpected response type %T", op, r.Out)
			}
			i++
		}
	}
	return out, nil
}

// pipelineChunk and pipelineBytes bound one batch frame of a call that
// has more: at most 512 items and about 256 KiB. The frames are all sent
// at once, so that kmsd works on one while the client encodes the next and
// decodes the one before, instead of each side waiting for the other.
const (
	pipelineChunk = 512
	pipelineBytes = 256 << 10
)

// doBatch sends items as batch frames of at most pipelineChunk items (and
// the server's wire.MaxBatchItems; fewer if a frame would be too large), all
// in flight at once, and collects the results in order.
func (c *Client) doBatch(ctx context.Context, op *api.OpSpec, items []api.Message) ([]wire.Result, []span, error) {
	cc, err := c.conn(ctx)
	if err != nil {
		return nil, nil, err
	}
	size := 0
	for _, it := range items {
		size += wire.SizeHint(it)
	}
	per := min(pipelineChunk, int(cc.hello.Limits.MaxBatchItems), wire.MaxBatchItems, max(16, len(items)*pipelineBytes/max(1, size)))
	if len(items) <= per {
		return c.sendSplitting(ctx, cc, op, items)
	}
	results := make([]wire.Result, len(items))
	parts := make([][]span, (len(items)+per-1)/per)
	errs := make([]error, len(parts))
	var wg sync.WaitGroup
	for k := range parts {
		lo, hi := k*per, min(len(items), (k+1)*per)
		wg.Add(1)
		go func() {
			defer wg.Done()
			rs, sp, err := c.sendSplitting(ctx, cc, op, items[lo:hi])
			copy(results[lo:hi], rs)
			parts[k], errs[k] = sp, err
		}()
	}
	wg.Wait()
	var spans []span
	for _, sp := range parts {
		spans = append(spans, sp...)
	}
	if err := errors.Join(errs...); err != nil {
		giveAll(spans)
		return nil, nil, err
	}
	return results, spans, nil
}

// giveAll gives back the frames of results that will not be returned.
func giveAll(spans []span) {
	for _, sp := range spans {
		sp.frame.give()
	}
}

// sendSplitting sends items in batch frames one after another, halving a
// frame that would be too large.
func (c *Client) sendSplitting(ctx context.Context, cc *clientConn, op *api.OpSpec, items []api.Message) ([]wire.Result, []span, error) {
	results := make([]wire.Result, 0, len(items))
	var spans []span
	for len(items) > 0 {
		n := len(items)
		for {
			rs, f, err := c.sendBatch(ctx, cc, op, items[:n])
			if errors.Is(err, wire.ErrFrameTooLarge) && n > 1 {
				n /= 2
				continue
			}
			if err != nil {
				giveAll(spans)
				return nil, nil, err
			}
			results = append(results, rs...)
			spans = append(spans, span{frame: f, n: n})
			break
		}
		items = items[n:]
	}
	return results, spans, nil
}

func (c *Client) sendBatch(ctx context.Context, cc *clientConn, op *api.OpSpec, items []api.Message) ([]wire.Result, *frame, error) {
	id := c.nextID.Add(1)
	// The frame's buffer is the shared pool's: the sender copies the
	// frame out and gives it back, wiped (it holds the plaintexts).
	frame, err := wire.AppendBatchRequest(wire.GetFrameBuffer(wire.BatchRequestHint(op.Name, items))[:0], id, op.Name, items)
	if err != nil {
		wire.PutFrameBuffer(frame)
		return nil, nil, err
	}
	b := &batchCall{n: len(items), done: make(chan struct{})}
	cc.mu.Lock()
	if cc.pending == nil {
		cc.mu.Unlock()
		return nil, nil, cc.err
	}
	cc.addPending(id, pendingReq{op: op, batch: b})
	cc.mu.Unlock()
	cc.writeRaw(frame)
	select {
	case <-b.done:
	case <-ctx.Done():
		return nil, nil, ctx.Err()
	}
	var we *api.Error
	switch {
	case errors.As(b.err, &we): // the batch refused whole: each item's answer
		out := make([]wire.Result, len(items))
		for i := range out {
			out[i].Err = we
		}
		return out, nil, nil
	case b.err != nil:
		return nil, nil, b.err // the connection
	}
	return b.results, b.frame, nil
}

// CallBatch calls a batch operation by name (one whose OpSpec has Batch
// set) for many items, as the typed batch methods do (EncryptBatch, ...),
// for callers that pick the operation at run time: each item's result in
// order, its output (the operation's output type) or its error; the error
// is for the whole call. An item over kmsd's limits (CheckLimits) fails
// the whole call: check each first to answer it alone.
func (c *Client) CallBatch(ctx context.Context, op string, items []api.Message) ([]wire.Result, error) {
	spec := api.Lookup(op)
	if spec == nil || !spec.Batch {
		return nil, fmt.Errorf("%q is not a batch operation", op)
	}
	rs, _, err := c.doBatch(ctx, spec, items)
	return rs, err
}
