package wire

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// ErrConnection wraps failures of the connection to kmsd (it went away, or
// could not be reached). Calls that fail with it did not get an answer;
// the client reconnects on the next call.
var ErrConnection = errors.New("connection to kmsd failed")

// Options configure Dial.
type Options struct {
	// Client names the program in Hello (and in kmsd's logs).
	Client string
	// DialTimeout bounds one connection attempt; default 5s.
	DialTimeout time.Duration
	// MaxCoalesce is the most concurrent calls of one operation sent as
	// one batch frame; default 256. 1 turns coalescing off.
	MaxCoalesce int
}

// Client is a connection to kmsd. It is safe for concurrent use, and
// concurrent calls share one connection: requests are pipelined, and
// concurrent calls of the same crypto operation are sent as one batch
// frame (without waiting on a timer: whatever is queued when the sender
// runs goes together). If kmsd restarts, the next call reconnects; calls
// that were waiting on the lost connection fail with ErrConnection, except
// crypto and read-only calls, which are sent again once.
type Client struct {
	path   string
	opts   Options
	nextID atomic.Uint64

	mu     sync.Mutex
	cc     *clientConn
	closed bool
}

type clientConn struct {
	conn  net.Conn
	hello *HelloOutput
	sendq chan *call
	max   int

	wmu  sync.Mutex // held while writing to conn
	dbuf []byte     // sendNow's buffer; guarded by wmu

	mu      sync.Mutex
	pending map[uint64]pendingReq
	err     error // set once when the connection dies
	dead    chan struct{}
}

// pendingReq is a sent request: one call, or the calls of a batch frame.
type pendingReq struct {
	op    *OpSpec
	calls []*call
}

type call struct {
	op   *OpSpec
	in   Message
	raw  []byte // a frame already encoded (explicit batches); in is nil
	out  Message
	err  error
	sent bool
	done chan struct{}
}

// Dial connects to kmsd's socket and exchanges Hello.
func Dial(ctx context.Context, path string, opts Options) (*Client, error) {
	if opts.DialTimeout == 0 {
		opts.DialTimeout = 5 * time.Second
	}
	if opts.MaxCoalesce == 0 {
		opts.MaxCoalesce = 256
	}
	if opts.Client == "" {
		opts.Client = "kmsd/wire"
	}
	c := &Client{path: path, opts: opts}
	if _, err := c.conn(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// Hello returns the server's Hello answer on the current connection.
func (c *Client) Hello(ctx context.Context) (*HelloOutput, error) {
	cc, err := c.conn(ctx)
	if err != nil {
		return nil, err
	}
	return cc.hello, nil
}

// Close closes the connection; calls waiting on it fail.
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	if c.cc != nil {
		c.cc.fail(errors.New("client closed"))
		c.cc = nil
	}
	return nil
}

// conn returns the live connection, dialing a new one if there is none.
func (c *Client) conn(ctx context.Context) (*clientConn, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, errors.New("client is closed")
	}
	if c.cc != nil {
		select {
		case <-c.cc.dead:
			c.cc = nil
		default:
			return c.cc, nil
		}
	}
	cc, err := c.dial(ctx)
	if err != nil {
		return nil, err
	}
	c.cc = cc
	return cc, nil
}

func (c *Client) dial(ctx context.Context) (*clientConn, error) {
	d := net.Dialer{Timeout: c.opts.DialTimeout}
	conn, err := d.DialContext(ctx, "unix", c.path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrConnection, err)
	}
	cc := &clientConn{conn: conn, sendq: make(chan *call, 4096), max: c.opts.MaxCoalesce,
		pending: map[uint64]pendingReq{}, dead: make(chan struct{})}
	go cc.readLoop()
	go cc.sendLoop(&c.nextID)
	h := &call{op: Lookup(OpHello), in: &HelloInput{ProtocolVersion: ProtocolVersion, Client: c.opts.Client}, done: make(chan struct{})}
	cc.sendq <- h
	select {
	case <-h.done:
	case <-ctx.Done():
		cc.fail(ctx.Err())
		return nil, ctx.Err()
	}
	if h.err != nil {
		cc.fail(h.err)
		return nil, fmt.Errorf("hello: %w", h.err)
	}
	cc.hello = h.out.(*HelloOutput)
	if cc.hello.ProtocolVersion != ProtocolVersion {
		cc.fail(errors.New("protocol version mismatch"))
		return nil, fmt.Errorf("kmsd speaks protocol %d, this client %d", cc.hello.ProtocolVersion, ProtocolVersion)
	}
	if n := int(cc.hello.Limits.MaxBatchItems); n > 0 && n < cc.max {
		cc.max = n
	}
	return cc, nil
}

// fail marks the connection dead and fails every pending call.
func (cc *clientConn) fail(err error) {
	cc.mu.Lock()
	if cc.err != nil {
		cc.mu.Unlock()
		return
	}
	cc.err = fmt.Errorf("%w: %v", ErrConnection, err)
	pending := cc.pending
	cc.pending = nil
	close(cc.dead)
	cc.mu.Unlock()
	cc.conn.Close()
	for _, p := range pending {
		for _, cl := range p.calls {
			cl.finish(nil, cc.err)
		}
	}
}

func (cl *call) finish(out Message, err error) {
	cl.out, cl.err = out, err
	close(cl.done)
}

// readLoop reads responses and completes their calls.
func (cc *clientConn) readLoop() {
	r := bufio.NewReaderSize(cc.conn, 64<<10)
	var buf []byte
	for {
		body, err := ReadFrame(r, buf, MaxFrame)
		if err != nil {
			cc.fail(err)
			return
		}
		buf = body[:0]
		var p pendingReq
		resp, err := DecodeResponse(body, func(id uint64) (*OpSpec, bool) {
			cc.mu.Lock()
			defer cc.mu.Unlock()
			var ok bool
			p, ok = cc.pending[id]
			delete(cc.pending, id)
			return p.op, ok
		})
		if err != nil {
			cc.fail(err)
			return
		}
		switch {
		case resp.Err != nil:
			for _, cl := range p.calls {
				cl.finish(nil, resp.Err)
			}
		case resp.Type == TypeResponse:
			if len(p.calls) != 1 {
				cc.fail(errors.New("single response to a batch request"))
				return
			}
			p.calls[0].finish(resp.Body, nil)
		default:
			if len(resp.Items) != len(p.calls) {
				cc.fail(fmt.Errorf("batch response has %d items for %d requests", len(resp.Items), len(p.calls)))
				return
			}
			for i, cl := range p.calls {
				if it := resp.Items[i]; it.Err != nil {
					cl.finish(nil, it.Err)
				} else {
					cl.finish(it.Out, nil)
				}
			}
		}
		if cap(buf) >= BigFrame {
			PutFrameBuffer(body) // large buffers are shared, not kept per connection
			buf = nil
		}
	}
}

// safeToRepeat reports whether an operation may be sent again after a
// lost connection: crypto operations and reads change nothing.
func safeToRepeat(op *OpSpec) bool {
	if op.Crypto {
		return true
	}
	for _, p := range []string{"Describe", "List", "Get", "Status"} {
		if strings.HasPrefix(op.Name, p) {
			return true
		}
	}
	return false
}

// do sends one call and waits for its answer.
func (c *Client) do(ctx context.Context, opName string, in Message) (Message, error) {
	op := Lookup(opName)
	for attempt := 0; ; attempt++ {
		cc, err := c.conn(ctx)
		if err != nil {
			return nil, err
		}
		cl := &call{op: op, in: in, done: make(chan struct{})}
		if !cc.sendNow(cl, &c.nextID) {
			select {
			case cc.sendq <- cl:
			case <-cc.dead:
				continue
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		select {
		case <-cl.done:
		case <-ctx.Done():
			return nil, ctx.Err() // the answer, if it comes, is dropped
		}
		if errors.Is(cl.err, ErrConnection) && attempt == 0 && (!cl.sent || safeToRepeat(op)) {
			continue
		}
		return cl.out, cl.err
	}
}

func call1[Out any, P interface {
	*Out
	Message
}](c *Client, ctx context.Context, op string, in Message) (*Out, error) {
	out, err := c.do(ctx, op, in)
	if err != nil {
		return nil, err
	}
	o, ok := out.(P)
	if !ok {
		return nil, fmt.Errorf("%s: unexpected response type %T", op, out)
	}
	return (*Out)(o), nil
}

// Call sends any operation by name and returns its response (a pointer to
// the operation's output type). The typed methods are easier to use.
func (c *Client) Call(ctx context.Context, op string, in Message) (Message, error) {
	if Lookup(op) == nil {
		return nil, fmt.Errorf("unknown operation %q", op)
	}
	return c.do(ctx, op, in)
}
