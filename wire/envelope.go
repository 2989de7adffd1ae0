package wire

import (
	"errors"
	"fmt"
	"slices"

	"github.com/vmihailenco/msgpack/v5/msgpcode"

	"kmsd/wire/api"
)

// Frame types: the first element of every frame body (docs/wire-protocol.md).
const (
	TypeRequest       = 1 // [1, id, op, body]
	TypeResponse      = 2 // [2, id, error|nil, body|nil]
	TypeBatchRequest  = 3 // [3, id, op, [body, ...]]
	TypeBatchResponse = 4 // [4, id, error|nil, [[error|nil, body|nil], ...]|nil]
)

// Request is a decoded request frame.
type Request struct {
	Type  int
	ID    uint64
	Op    *api.OpSpec
	Body  api.Message   // TypeRequest
	Items []api.Message // TypeBatchRequest
}

// Result is one answer: an output or an error.
type Result struct {
	Out api.Message
	Err *api.Error
}

// Response is a decoded response frame.
type Response struct {
	Type  int
	ID    uint64
	Err   *api.Error  // of the whole request or batch
	Body  api.Message // TypeResponse, when Err is nil
	Items []Result    // TypeBatchResponse, when Err is nil
}

// ErrProtocol marks a frame so malformed that no request id can be read
// from it. The connection cannot continue.
var ErrProtocol = errors.New("protocol error")

func protocolErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrProtocol, fmt.Sprintf(format, args...))
}

// header checks body with Validate and reads [type, id, ...] from it.
func header(body []byte) (*reader, int, uint64, error) {
	if err := Validate(body, MaxDepth); err != nil {
		return nil, 0, 0, protocolErr("%v", err)
	}
	r := newReader(body)
	if n, err := r.arrayLen(0); err != nil || n != 4 {
		return nil, 0, 0, protocolErr("a frame is an array of 4 elements")
	}
	t, err := r.uint()
	if err != nil || t > 255 {
		return nil, 0, 0, protocolErr("the frame type is not a small integer")
	}
	id, err := r.uint()
	if err != nil {
		return nil, 0, 0, protocolErr("the request id is not an unsigned integer")
	}
	return r, int(t), id, nil
}

func validation(format string, args ...any) *api.Error {
	return &api.Error{Code: api.CodeValidation, Message: fmt.Sprintf(format, args...)}
}

// DecodeRequest decodes a request frame body. It returns a nil Request
// and an error wrapping ErrProtocol when not even the id can be read; a
// Request and an *api.Error when the request is understood far enough to
// be answered with that error.
func DecodeRequest(body []byte) (*Request, error) {
	r, t, id, err := header(body)
	if err != nil {
		return nil, err
	}
	if t != TypeRequest && t != TypeBatchRequest {
		return nil, protocolErr("frame type %d is not a request", t)
	}
	req := &Request{Type: t, ID: id}
	name, err := r.raw(errWantString)
	if err != nil {
		return req, validation("the operation name is not a string")
	}
	if req.Op = api.Lookup(string(name)); req.Op == nil {
		return req, &api.Error{Code: api.CodeUnknownOperation, Message: fmt.Sprintf("unknown operation %.64q", name)}
	}
	if t == TypeRequest {
		req.Body = req.Op.NewInput()
		if err := decodeMessage(r, req.Body); err != nil {
			return req, validation("%s: %v", req.Op.Name, err)
		}
		return req, nil
	}
	if !req.Op.Batch {
		return req, validation("%s cannot be batched", req.Op.Name)
	}
	n, err := r.arrayLen(MaxBatchItems)
	if err != nil || n < 1 {
		return req, validation("a batch holds 1 to %d items", MaxBatchItems)
	}
	// An item takes at least a byte on the wire and a pointer and its
	// structure in memory: charge them before allocating.
	if err := r.charge(n * 128); err != nil {
		return req, validation("%s: %v", req.Op.Name, err)
	}
	req.Items = make([]api.Message, n)
	for i := range req.Items {
		req.Items[i] = req.Op.NewInput()
		if err := decodeMessage(r, req.Items[i]); err != nil {
			return req, validation("%s item %d: %v", req.Op.Name, i, err)
		}
	}
	return req, nil
}

// AppendRequest appends a whole request frame (header included) to dst.
func AppendRequest(dst []byte, id uint64, op string, in api.Message) ([]byte, error) {
	start := len(dst)
	b := slices.Grow(dst, FrameHeaderSize+16+len(op)+SizeHint(in))
	b = AppendFrameHeader(b)
	b = appendArrayLen(b, 4)
	b = appendUint(b, TypeRequest)
	b = appendUint(b, id)
	b = appendStr(b, op)
	b = appendMessage(b, in)
	return finish(b, start)
}

// AppendBatchRequest appends a batch request frame to dst.
func AppendBatchRequest(dst []byte, id uint64, op string, items []api.Message) ([]byte, error) {
	hint := FrameHeaderSize + 32 + len(op)
	for _, it := range items {
		hint += SizeHint(it)
	}
	start := len(dst)
	b := AppendFrameHeader(slices.Grow(dst, hint))
	b = appendArrayLen(b, 4)
	b = appendUint(b, TypeBatchRequest)
	b = appendUint(b, id)
	b = appendStr(b, op)
	b = appendArrayLen(b, len(items))
	for _, it := range items {
		b = appendMessage(b, it)
	}
	return finish(b, start)
}

// AppendResponse appends a response frame: out on success, else err.
func AppendResponse(dst []byte, id uint64, out api.Message, err *api.Error) ([]byte, error) {
	hint := FrameHeaderSize + 32
	if out != nil {
		hint += SizeHint(out)
	}
	start := len(dst)
	b := AppendFrameHeader(slices.Grow(dst, hint))
	b = appendArrayLen(b, 4)
	b = appendUint(b, TypeResponse)
	b = appendUint(b, id)
	b = appendResult(b, out, err)
	return finish(b, start)
}

// AppendBatchResponse appends a batch response frame: one result per item,
// or err for the whole batch.
func AppendBatchResponse(dst []byte, id uint64, items []Result, err *api.Error) ([]byte, error) {
	hint := FrameHeaderSize + 32
	for _, it := range items {
		if it.Out != nil {
			hint += SizeHint(it.Out)
		} else {
			hint += 128 // an error
		}
	}
	start := len(dst)
	b := AppendFrameHeader(slices.Grow(dst, hint))
	b = appendArrayLen(b, 4)
	b = appendUint(b, TypeBatchResponse)
	b = appendUint(b, id)
	if err != nil {
		b = appendMessage(b, err)
		b = appendNil(b)
		return finish(b, start)
	}
	b = appendNil(b)
	b = appendArrayLen(b, len(items))
	for _, it := range items {
		b = appendArrayLen(b, 2)
		b = appendResult(b, it.Out, it.Err)
	}
	return finish(b, start)
}

// appendResult appends [error, nil] or [nil, out] (the two trailing
// elements of a response or of a batch item).
func appendResult(b []byte, out api.Message, err *api.Error) []byte {
	if err != nil {
		return appendNil(appendMessage(b, err))
	}
	if out == nil {
		out = &api.Empty{}
	}
	return appendMessage(appendNil(b), out)
}

// finish completes the frame that begins at start, or, if its body is
// over MaxFrame, wipes it (it may hold plaintext), cuts it off and fails.
func finish(b []byte, start int) ([]byte, error) {
	if n := len(b) - start - FrameHeaderSize; n > MaxFrame {
		clear(b[start:])
		return b[:start], fmt.Errorf("%w: %d bytes", ErrFrameTooLarge, n)
	}
	FinishFrame(b, start)
	return b, nil
}

// DecodeResponse decodes a response frame body. opOf returns the
// operation of a pending request id (ok false for an id it never sent);
// the body is decoded into that operation's output type.
func DecodeResponse(body []byte, opOf func(id uint64) (*api.OpSpec, bool)) (*Response, error) {
	r, t, id, err := header(body)
	if err != nil {
		return nil, err
	}
	if t != TypeResponse && t != TypeBatchResponse {
		return nil, protocolErr("frame type %d is not a response", t)
	}
	op, ok := opOf(id)
	if !ok {
		return nil, protocolErr("response to unknown request id %d", id)
	}
	resp := &Response{Type: t, ID: id}
	if t == TypeResponse {
		res, err := decodeResult(r, op)
		resp.Err, resp.Body = res.Err, res.Out
		return resp, err
	}
	if resp.Err, err = optionalError(r); err != nil || resp.Err != nil {
		if err == nil && !r.nextIsNil() {
			err = protocolErr("a batch refused as a whole has items")
		}
		return resp, err
	}
	n, err := r.arrayLen(MaxBatchItems)
	if err != nil {
		return nil, protocolErr("batch response has no item list")
	}
	if err := r.charge(n * 64); err != nil {
		return nil, protocolErr("batch response: %v", err)
	}
	resp.Items = make([]Result, n)
	for i := range resp.Items {
		if l, err := r.arrayLen(0); err != nil || l != 2 {
			return nil, protocolErr("batch item %d is not [error, body]", i)
		}
		if resp.Items[i], err = decodeResult(r, op); err != nil {
			return nil, err
		}
	}
	return resp, nil
}

// optionalError reads an error map, or nil.
func optionalError(r *reader) (*api.Error, error) {
	if c, err := r.peek(); err != nil {
		return nil, protocolErr("truncated response")
	} else if c == msgpcode.Nil {
		r.off++
		return nil, nil
	}
	e := &api.Error{}
	if err := decodeMessage(r, e); err != nil {
		return nil, protocolErr("error: %v", err)
	}
	return e, nil
}

// decodeResult reads [error|nil, body|nil] (the two trailing elements).
func decodeResult(r *reader, op *api.OpSpec) (Result, error) {
	var res Result
	var err error
	if res.Err, err = optionalError(r); err != nil {
		return res, err
	}
	if res.Err != nil {
		if !r.nextIsNil() {
			return res, protocolErr("%s response has both an error and a body", op.Name)
		}
		return res, nil
	}
	res.Out = op.NewOutput()
	if err := decodeMessage(r, res.Out); err != nil {
		return res, protocolErr("%s response: %v", op.Name, err)
	}
	return res, nil
}
