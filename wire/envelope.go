package wire

import (
	"encoding/binary"
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
	Type int
	ID   uint64
	Op   *api.OpSpec
	Body api.Message // TypeRequest
	// Inputs are a batch's items (TypeBatchRequest): a slice of the
	// operation's input type, []api.EncryptInput for Encrypt. They are
	// decoded in place: their bytes refer into the frame's body, and what
	// items repeat is shared, so the body must be kept, unchanged, while
	// they are used, and nothing in them changed.
	Inputs any
	// N is the number of items of a batch.
	N int
}

// Item returns item i of a batch request.
func (r *Request) Item(i int) api.Message { return r.Op.Input(r.Inputs, i) }

// Items returns a batch request's items as messages.
func (r *Request) Items() []api.Message {
	items := make([]api.Message, r.N)
	for i := range items {
		items[i] = r.Item(i)
	}
	return items
}

// Result is one answer: an output or an error.
type Result struct {
	Out api.Message
	Err *api.Error
}

// Response is a decoded response frame.
type Response struct {
	Type int
	ID   uint64
	Err  *api.Error  // of the whole request or batch
	Body api.Message // TypeResponse, when Err is nil
	// Items are a batch's results (TypeBatchResponse, when Err is nil),
	// decoded in place as a batch request's items are: their bytes refer
	// into the frame's body, and what they repeat is shared.
	Items []Result
}

// ErrProtocol marks a frame so malformed that no request id can be read
// from it. The connection cannot continue.
var ErrProtocol = errors.New("protocol error")

func protocolErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrProtocol, fmt.Sprintf(format, args...))
}

// header reads [type, id, ...] from body. The rest is read by a reader
// that checks every length against what is left of body, charges what it
// allocates to its budget, and skips unknown fields with Validate's walk;
// the envelope's end must be body's (see done).
func header(body []byte) (*reader, int, uint64, error) {
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

// ResponseID reads the request id a response frame body answers, so that
// a reader can find what it answers before it decodes it.
func ResponseID(body []byte) (uint64, error) {
	_, _, id, err := header(body)
	return id, err
}

// RequestHead reads what the first bytes of a request frame's body say:
// its type, id and, if they hold it, its operation (Op nil otherwise),
// without its fields. It is what a reader needs to answer a request it
// will not serve; nil and an error wrapping ErrProtocol if not even the
// id can be read.
func RequestHead(prefix []byte) (*Request, error) {
	r, t, id, err := header(prefix)
	if err != nil {
		return nil, err
	}
	if t != TypeRequest && t != TypeBatchRequest {
		return nil, protocolErr("frame type %d is not a request", t)
	}
	req := &Request{Type: t, ID: id}
	if name, err := r.raw(errWantString); err == nil {
		req.Op = api.Lookup(string(name))
	}
	return req, nil
}

func validation(format string, args ...any) *api.Error {
	return &api.Error{Code: api.CodeValidation, Message: fmt.Sprintf(format, args...)}
}

// DecodeRequest decodes a request frame body. It returns a nil Request
// and an error wrapping ErrProtocol when not even the id can be read; a
// Request and an *api.Error when the request is understood far enough to
// be answered with that error. A single request's body is decoded into
// values of its own; a batch's items refer into body (see Request.Inputs).
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
		return req, r.requestDone()
	}
	if !req.Op.Batch {
		return req, validation("%s cannot be batched", req.Op.Name)
	}
	n, err := r.arrayLen(MaxBatchItems)
	if err != nil || n < 1 {
		return req, validation("a batch holds 1 to %d items", MaxBatchItems)
	}
	// An item takes at least a byte on the wire and its structure in
	// memory: charge them before allocating.
	if err := r.charge(n * 128); err != nil {
		return req, validation("%s: %v", req.Op.Name, err)
	}
	req.Inputs, req.N = req.Op.NewInputs(n), n
	r.shared = &sharing{strs: make(map[string]string, 4)}
	for i := range n {
		if err := decodeMessage(r, req.Item(i)); err != nil {
			return req, validation("%s item %d: %v", req.Op.Name, i, err)
		}
	}
	return req, r.requestDone()
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
	b = appendMessage(b, in, nil)
	return finish(b, start)
}

// AppendBatchRequest appends a batch request frame to dst.
func AppendBatchRequest(dst []byte, id uint64, op string, items []api.Message) ([]byte, error) {
	start := len(dst)
	b := AppendFrameHeader(slices.Grow(dst, BatchRequestHint(op, items)))
	b = appendArrayLen(b, 4)
	b = appendUint(b, TypeBatchRequest)
	b = appendUint(b, id)
	b = appendStr(b, op)
	b = appendArrayLen(b, len(items))
	var e encoder
	for _, it := range items {
		b = appendMessage(b, it, &e)
	}
	return finish(b, start)
}

// BatchRequestHint is about the size of the frame AppendBatchRequest
// appends for op and items (SizeHint's estimate for each), so that its
// buffer can be taken once, at that size.
func BatchRequestHint(op string, items []api.Message) int {
	hint := FrameHeaderSize + 32 + len(op)
	for _, it := range items {
		hint += SizeHint(it)
	}
	return hint
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
	if err != nil {
		b := AppendFrameHeader(slices.Grow(dst, hint))
		b = appendArrayLen(b, 4)
		b = appendUint(b, TypeBatchResponse)
		b = appendUint(b, id)
		b = appendNil(appendMessage(b, err, nil))
		return finish(b, start)
	}
	b := AppendBatchResponseHead(slices.Grow(dst, hint), id, len(items))
	for _, it := range items {
		b = AppendItem(b, it.Out, it.Err)
	}
	return finish(b, start)
}

// AppendBatchResponseHead appends the beginning of a batch response frame
// of n items: the frame header, its length left for
// FinishBatchResponse, and [4, id, nil, then the header of an array of n.
// The items follow, each appended by AppendItem or AppendItemFill, in as
// many buffers as the writer likes (workers answer parts of a batch in
// parallel).
func AppendBatchResponseHead(dst []byte, id uint64, n int) []byte {
	b := AppendFrameHeader(dst)
	b = appendArrayLen(b, 4)
	b = appendUint(b, TypeBatchResponse)
	b = appendUint(b, id)
	b = appendNil(b)
	return appendArrayLen(b, n)
}

// FinishBatchResponse writes the length of a batch response frame whose
// head (from AppendBatchResponseHead) begins at start in head and whose
// items take itemBytes more, wherever they are. A body over MaxFrame is
// ErrFrameTooLarge.
func FinishBatchResponse(head []byte, start, itemBytes int) error {
	n := len(head) - start - FrameHeaderSize + itemBytes
	if n > MaxFrame {
		return fmt.Errorf("%w: %d bytes", ErrFrameTooLarge, n)
	}
	binary.BigEndian.PutUint32(head[start:], uint32(n))
	return nil
}

// AppendItem appends one item of a batch response: [err, nil], or [nil,
// out] (an empty map for a nil out).
func AppendItem(b []byte, out api.Message, err *api.Error) []byte {
	return appendResult(appendArrayLen(b, 2), out, err)
}

// AppendItemFill appends [nil, out] for an out whose type has a fill
// field (api.EncryptOutput's CiphertextBlob, api.DecryptOutput's
// Plaintext, ...): whatever out holds there, the field is n bytes that
// fill appends in place, so that a blob is sealed (or a plaintext opened)
// straight into the answer. fill must append exactly n bytes. If it fails,
// what was appended is wiped and cut off, and b is returned as it was.
func AppendItemFill(b []byte, out api.Message, n int, fill func(dst []byte) ([]byte, error)) ([]byte, error) {
	start := len(b)
	b = appendNil(appendArrayLen(b, 2))
	b, err := appendFill(b, out, n, fill)
	if err != nil {
		clear(b[start:])
		return b[:start], err
	}
	return b, nil
}

// appendResult appends [error, nil] or [nil, out] (the two trailing
// elements of a response or of a batch item).
func appendResult(b []byte, out api.Message, err *api.Error) []byte {
	if err != nil {
		return appendNil(appendMessage(b, err, nil))
	}
	if out == nil {
		out = &api.Empty{}
	}
	return appendMessage(appendNil(b), out, nil)
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
// the body is decoded into that operation's output type. A batch
// response's items are decoded in place: their byte values refer into
// body, which is then theirs.
func DecodeResponse(body []byte, opOf func(id uint64) (*api.OpSpec, bool)) (*Response, error) {
	return decodeResponse(body, opOf, false)
}

// DecodeResponseCopy is DecodeResponse for a caller that uses body again:
// a batch response's byte values are copied out, into one buffer for the
// whole batch (which a result kept keeps alive).
func DecodeResponseCopy(body []byte, opOf func(id uint64) (*api.OpSpec, bool)) (*Response, error) {
	return decodeResponse(body, opOf, true)
}

func decodeResponse(body []byte, opOf func(id uint64) (*api.OpSpec, bool), copyBins bool) (*Response, error) {
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
		if err == nil {
			err = r.done()
		}
		return resp, err
	}
	if resp.Err, err = optionalError(r); err != nil || resp.Err != nil {
		if err == nil && !r.nextIsNil() {
			err = protocolErr("a batch refused as a whole has items")
		}
		if err == nil {
			err = r.done()
		}
		return resp, err
	}
	n, err := r.arrayLen(MaxBatchItems)
	if err != nil {
		return nil, protocolErr("batch response has no item list")
	}
	if err := r.charge(n * 192); err != nil {
		return nil, protocolErr("batch response: %v", err)
	}
	resp.Items = make([]Result, n)
	outs := op.NewOutputs(n)
	r.shared = &sharing{strs: make(map[string]string, 4)}
	if copyBins {
		r.shared.copied = new([]byte)
	}
	for i := range resp.Items {
		if l, err := r.arrayLen(0); err != nil || l != 2 {
			return nil, protocolErr("batch item %d is not [error, body]", i)
		}
		if resp.Items[i], err = decodeItem(r, op, op.Output(outs, i)); err != nil {
			return nil, err
		}
	}
	return resp, r.done()
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
	return decodeItem(r, op, nil)
}

// decodeItem is decodeResult into out (a new output if nil).
func decodeItem(r *reader, op *api.OpSpec, out api.Message) (Result, error) {
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
	if out == nil {
		out = op.NewOutput()
	}
	res.Out = out
	if err := decodeMessage(r, res.Out); err != nil {
		return res, protocolErr("%s response: %v", op.Name, err)
	}
	return res, nil
}
