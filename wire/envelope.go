package wire

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/vmihailenco/msgpack/v5"
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
	Op    *OpSpec
	Body  Message   // TypeRequest
	Items []Message // TypeBatchRequest
}

// Result is one answer: an output or an error.
type Result struct {
	Out Message
	Err *Error
}

// Response is a decoded response frame.
type Response struct {
	Type  int
	ID    uint64
	Err   *Error   // of the whole request or batch
	Body  Message  // TypeResponse, when Err is nil
	Items []Result // TypeBatchResponse, when Err is nil
}

type codec struct {
	r bytes.Reader
	d *msgpack.Decoder
	w appendWriter
	e *msgpack.Encoder
}

var codecs = sync.Pool{New: func() any {
	c := &codec{}
	c.d = msgpack.NewDecoder(&c.r)
	c.e = msgpack.NewEncoder(&c.w)
	return c
}}

func getCodec() *codec { return codecs.Get().(*codec) }

func putCodec(c *codec) {
	c.r.Reset(nil)
	c.w.b = nil // the frame is the caller's
	codecs.Put(c)
}

// ErrProtocol marks a frame so malformed that no request id can be read
// from it. The connection cannot continue.
var ErrProtocol = errors.New("protocol error")

func protocolErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrProtocol, fmt.Sprintf(format, args...))
}

// header reads [type, id, ...] after Validate.
func (c *codec) header(body []byte, n int) (int, uint64, error) {
	if err := Validate(body, MaxDepth); err != nil {
		return 0, 0, protocolErr("%v", err)
	}
	c.r.Reset(body)
	if l, err := c.d.DecodeArrayLen(); err != nil || l != n {
		return 0, 0, protocolErr("a frame is an array of %d elements", n)
	}
	t, err := c.d.DecodeUint8()
	if err != nil {
		return 0, 0, protocolErr("the frame type is not a small integer")
	}
	id, err := c.d.DecodeUint64()
	if err != nil {
		return 0, 0, protocolErr("the request id is not an unsigned integer")
	}
	return int(t), id, nil
}

// DecodeRequest decodes a request frame body. It returns a nil Request
// and an error wrapping ErrProtocol when not even the id can be read; a
// Request and an *Error when the request is understood far enough to be
// answered with that error.
func DecodeRequest(body []byte) (*Request, error) {
	c := getCodec()
	defer putCodec(c)
	t, id, err := c.header(body, 4)
	if err != nil {
		return nil, err
	}
	if t != TypeRequest && t != TypeBatchRequest {
		return nil, protocolErr("frame type %d is not a request", t)
	}
	req := &Request{Type: t, ID: id}
	name, err := c.d.DecodeString()
	if err != nil {
		return req, &Error{Code: CodeValidation, Message: "the operation name is not a string"}
	}
	if req.Op = Lookup(name); req.Op == nil {
		return req, &Error{Code: CodeUnknownOperation, Message: fmt.Sprintf("unknown operation %.64q", name)}
	}
	if t == TypeRequest {
		req.Body = req.Op.NewInput()
		if err := decodeMessage(c.d, req.Body); err != nil {
			return req, &Error{Code: CodeValidation, Message: req.Op.Name + ": " + err.Error()}
		}
		return req, nil
	}
	if !req.Op.Batch {
		return req, &Error{Code: CodeValidation, Message: req.Op.Name + " cannot be batched"}
	}
	n, err := c.d.DecodeArrayLen()
	if err != nil || n < 1 || n > MaxBatchItems {
		return req, &Error{Code: CodeValidation, Message: fmt.Sprintf("a batch holds 1 to %d items", MaxBatchItems)}
	}
	req.Items = make([]Message, n)
	for i := range req.Items {
		req.Items[i] = req.Op.NewInput()
		if err := decodeMessage(c.d, req.Items[i]); err != nil {
			return req, &Error{Code: CodeValidation, Message: fmt.Sprintf("%s item %d: %v", req.Op.Name, i, err)}
		}
	}
	return req, nil
}

// AppendRequest appends a whole request frame (header included) to dst.
func AppendRequest(dst []byte, id uint64, op string, in Message) ([]byte, error) {
	return appendFrame(dst, func(e *msgpack.Encoder) error {
		e.EncodeArrayLen(4)
		e.EncodeUint(TypeRequest)
		e.EncodeUint(id)
		e.EncodeString(op)
		return encodeMessage(e, in)
	})
}

// AppendBatchRequest appends a batch request frame to dst.
func AppendBatchRequest(dst []byte, id uint64, op string, items []Message) ([]byte, error) {
	hint := 64
	for _, it := range items {
		hint += sizeHint(it)
	}
	return appendFrame(slices.Grow(dst, hint), func(e *msgpack.Encoder) error {
		e.EncodeArrayLen(4)
		e.EncodeUint(TypeBatchRequest)
		e.EncodeUint(id)
		e.EncodeString(op)
		e.EncodeArrayLen(len(items))
		for _, it := range items {
			if err := encodeMessage(e, it); err != nil {
				return err
			}
		}
		return nil
	})
}

// AppendResponse appends a response frame: out on success, else err.
func AppendResponse(dst []byte, id uint64, out Message, err *Error) ([]byte, error) {
	return appendFrame(dst, func(e *msgpack.Encoder) error {
		e.EncodeArrayLen(4)
		e.EncodeUint(TypeResponse)
		e.EncodeUint(id)
		return encodeResult(e, out, err)
	})
}

// AppendBatchResponse appends a batch response frame: one result per item,
// or err for the whole batch.
func AppendBatchResponse(dst []byte, id uint64, items []Result, err *Error) ([]byte, error) {
	hint := 64
	for _, it := range items {
		if it.Out != nil {
			hint += sizeHint(it.Out)
		} else {
			hint += 128 // an error
		}
	}
	return appendFrame(slices.Grow(dst, hint), func(e *msgpack.Encoder) error {
		e.EncodeArrayLen(4)
		e.EncodeUint(TypeBatchResponse)
		e.EncodeUint(id)
		if err != nil {
			encodeMessage(e, err)
			return e.EncodeNil()
		}
		e.EncodeNil()
		e.EncodeArrayLen(len(items))
		for _, it := range items {
			e.EncodeArrayLen(2)
			if err := encodeResult(e, it.Out, it.Err); err != nil {
				return err
			}
		}
		return nil
	})
}

func encodeResult(e *msgpack.Encoder, out Message, err *Error) error {
	if err != nil {
		if err := encodeMessage(e, err); err != nil {
			return err
		}
		return e.EncodeNil()
	}
	if err := e.EncodeNil(); err != nil {
		return err
	}
	if out == nil {
		out = &Empty{}
	}
	return encodeMessage(e, out)
}

func appendFrame(dst []byte, body func(*msgpack.Encoder) error) ([]byte, error) {
	c := getCodec()
	defer putCodec(c)
	start := len(dst)
	c.w.b = AppendFrameHeader(dst)
	err := body(c.e)
	out := c.w.b
	if n := len(out) - start - FrameHeaderSize; err == nil && n > MaxFrame {
		err = fmt.Errorf("%w: %d bytes", ErrFrameTooLarge, n)
	}
	if err != nil {
		clear(out[start:]) // what was encoded may hold plaintext
		return out[:start], err
	}
	FinishFrame(out, start)
	return out, nil
}

// DecodeResponse decodes a response frame body. opOf returns the
// operation of a pending request id (ok false for an id it never sent);
// the body is decoded into that operation's output type.
func DecodeResponse(body []byte, opOf func(id uint64) (*OpSpec, bool)) (*Response, error) {
	c := getCodec()
	defer putCodec(c)
	t, id, err := c.header(body, 4)
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
		r, err := c.result(op)
		resp.Err, resp.Body = r.Err, r.Out
		return resp, err
	}
	if resp.Err, err = c.optionalError(); err != nil || resp.Err != nil {
		if err == nil {
			err = c.d.DecodeNil()
		}
		return resp, err
	}
	n, err := c.d.DecodeArrayLen()
	if err != nil || n < 0 || n > MaxBatchItems {
		return nil, protocolErr("batch response has no item list")
	}
	resp.Items = make([]Result, n)
	for i := range resp.Items {
		if l, err := c.d.DecodeArrayLen(); err != nil || l != 2 {
			return nil, protocolErr("batch item %d is not [error, body]", i)
		}
		if resp.Items[i], err = c.result(op); err != nil {
			return nil, err
		}
	}
	return resp, nil
}

func (c *codec) optionalError() (*Error, error) {
	if code, err := c.d.PeekCode(); err != nil {
		return nil, protocolErr("truncated response")
	} else if code == 0xc0 {
		c.d.DecodeNil()
		return nil, nil
	}
	e := &Error{}
	if err := decodeMessage(c.d, e); err != nil {
		return nil, protocolErr("error: %v", err)
	}
	return e, nil
}

// result reads [error|nil, body|nil] (the two trailing elements).
func (c *codec) result(op *OpSpec) (Result, error) {
	var r Result
	var err error
	if r.Err, err = c.optionalError(); err != nil {
		return r, err
	}
	if r.Err != nil {
		return r, c.d.DecodeNil()
	}
	r.Out = op.NewOutput()
	if err := decodeMessage(c.d, r.Out); err != nil {
		return r, protocolErr("%s response: %v", op.Name, err)
	}
	return r, nil
}
