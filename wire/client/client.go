package client

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"kmsd/wire/api"
)

// ErrConnection wraps failures of the connection to kmsd (it went away, or
// could not be reached). Calls that fail with it did not get an answer;
// the client reconnects on the next call.
var ErrConnection = errors.New("connection to kmsd failed")

// ErrUntrustedServer is the error of a connection whose server is not run
// by a user the client trusts (Options.ServerUIDs): an impostor at kmsd's
// path. Nothing was sent to it.
var ErrUntrustedServer = errors.New("the socket is not served by a user this client trusts")

// Options configure Dial.
type Options struct {
	// Client names the program in Hello (and in kmsd's logs).
	Client string
	// DialTimeout bounds one connection attempt, the Hello exchange
	// included, so that a socket that accepts and never answers fails
	// soon, saying so; default 5s.
	DialTimeout time.Duration
	// MaxCoalesce is the most concurrent calls of one operation sent as
	// one batch frame; default 256. 1 turns coalescing off.
	MaxCoalesce int
	// PollWindow is how long the connection's reader polls the socket
	// for the next answer before it sleeps in the kernel, when the client
	// is used by one synchronous caller (see kmsd/internal/poll): a round
	// trip then costs a few microseconds of CPU instead of the wake-up of
	// a sleeping thread. Concurrent callers never poll. Default 50µs;
	// negative turns polling off.
	PollWindow time.Duration
	// ServerUIDs are the users kmsd may run as: before it sends anything,
	// the client reads who listens at the socket (SO_PEERCRED) and hangs
	// up on anyone else (ErrUntrustedServer), so that a process that
	// bound kmsd's path first cannot read what is sent to kmsd. Default:
	// root and the client's own uid.
	ServerUIDs []uint32
	// NoRing keeps the connection's frames on the socket. By default the
	// client asks kmsd for shared-memory rings (package kmsd/wire/ring)
	// and, when kmsd offers them, sends and reads every frame after
	// Hello through them: no system call while both sides are awake.
	NoRing bool
	// RingSize is the size of each ring to ask kmsd for (bytes, a power
	// of two): larger rings let large batch frames (many kilobytes a
	// batch) pass with fewer waits on each side, at the cost of memory
	// that counts against kmsd's rings for all. 0 takes kmsd's default
	// (256 KiB unless kmsd --ring-size says otherwise); kmsd gives at
	// most its --max-ring-size (1 MiB by default), and its default when
	// its memory for rings is short.
	RingSize int
}

// DefaultPollWindow is Options.PollWindow's default.
const DefaultPollWindow = 50 * time.Microsecond

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

// SystemSocket is where kmsd.socket, the systemd unit, listens.
const SystemSocket = "/run/kmsd/api.sock"

// DefaultSocket is the socket to use when none is named: $KMSD_SOCKET,
// else the systemd unit's socket if it exists, else ./kmsd.sock (where a
// kmsd started in the current directory listens).
func DefaultSocket() string {
	if p := os.Getenv("KMSD_SOCKET"); p != "" {
		return p
	}
	if _, err := os.Stat(SystemSocket); err == nil {
		return SystemSocket
	}
	return "kmsd.sock"
}

// Dial connects to kmsd's socket and exchanges Hello. An empty path is
// DefaultSocket().
func Dial(ctx context.Context, path string, opts Options) (*Client, error) {
	if path == "" {
		path = DefaultSocket()
	}
	if opts.DialTimeout == 0 {
		opts.DialTimeout = 5 * time.Second
	}
	if opts.MaxCoalesce == 0 {
		opts.MaxCoalesce = 256
	}
	if opts.PollWindow == 0 {
		opts.PollWindow = DefaultPollWindow
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
func (c *Client) Hello(ctx context.Context) (*api.HelloOutput, error) {
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

// do sends one call and waits for its answer.
func (c *Client) do(ctx context.Context, opName string, in api.Message) (api.Message, error) {
	op := api.Lookup(opName)
	for attempt := 0; ; attempt++ {
		cc, err := c.conn(ctx)
		if err != nil {
			return nil, err
		}
		if err := CheckLimits(cc.hello.Limits, in); err != nil {
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
		if errors.Is(cl.err, ErrConnection) && attempt == 0 && (!cl.sent || op.SafeToRepeat()) {
			continue
		}
		return cl.out, tooLarge(opName, cl.err)
	}
}

func call1[Out any, P interface {
	*Out
	api.Message
}](c *Client, ctx context.Context, op string, in api.Message) (*Out, error) {
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
func (c *Client) Call(ctx context.Context, op string, in api.Message) (api.Message, error) {
	if api.Lookup(op) == nil {
		return nil, fmt.Errorf("unknown operation %q", op)
	}
	return c.do(ctx, op, in)
}
