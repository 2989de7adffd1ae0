package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"kmsd/internal/poll"
	"kmsd/wire"
	"kmsd/wire/api"
	"kmsd/wire/ring"
)

// clientConn is one connection to kmsd: a reader goroutine completes
// calls as their answers come, a sender goroutine writes queued calls
// (see send.go).
type clientConn struct {
	conn  net.Conn
	ring  *ring.Conn // the shared-memory rings that carry the frames, if kmsd gave them (hello.go)
	w     io.Writer  // where frames are written: conn, or ring
	hello *api.HelloOutput
	sendq chan *call
	max   int

	wmu  sync.Mutex // held while writing to conn
	dbuf []byte     // sendNow's buffer; guarded by wmu

	mu      sync.Mutex
	pending map[uint64]pendingReq
	// calls counts the calls (batch items) in pending; concurrent, the
	// answers to come before the connection counts as one caller's again
	// (see lone).
	calls, concurrent int
	// frames counts the frames of calls of batchable operations in
	// pending; room is signalled when one is answered (see send.go's
	// window).
	frames int
	room   chan struct{}
	err    error // set once when the connection dies
	dead   chan struct{}
}

// pendingReq is a sent request: one call, the calls coalesced into a
// batch frame, or an explicit batch.
type pendingReq struct {
	op    *api.OpSpec
	calls []*call
	batch *batchCall
}

// batchCall is a batch frame sent by a batch call, waiting for its answer.
type batchCall struct {
	n       int // items sent
	results []wire.Result
	frame   *frame // the buffer results refer into
	err     error  // the connection's, or the whole batch's
	done    chan struct{}
}

func (b *batchCall) finish(results []wire.Result, f *frame, err error) {
	b.results, b.frame, b.err = results, f, err
	close(b.done)
}

type call struct {
	op   *api.OpSpec
	in   api.Message
	raw  []byte // a frame already encoded (explicit batches); in is nil
	out  api.Message
	err  error
	sent bool
	done chan struct{}
}

func (c *Client) dial(ctx context.Context) (*clientConn, error) {
	d := net.Dialer{Timeout: c.opts.DialTimeout}
	conn, err := d.DialContext(ctx, "unix", c.path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrConnection, err)
	}
	if err := checkServer(conn, c.opts.ServerUIDs); err != nil {
		conn.Close()
		return nil, err
	}
	hello, rc, err := c.hello(ctx, conn.(*net.UnixConn))
	if err != nil {
		conn.Close()
		return nil, err
	}
	if hello.ProtocolVersion != wire.ProtocolVersion {
		conn.Close()
		if rc != nil {
			rc.Unmap()
		}
		return nil, fmt.Errorf("kmsd speaks protocol %d, this client %d", hello.ProtocolVersion, wire.ProtocolVersion)
	}
	cc := &clientConn{conn: conn, w: conn, ring: rc, hello: hello, sendq: make(chan *call, 4096), max: c.opts.MaxCoalesce,
		pending: map[uint64]pendingReq{}, dead: make(chan struct{}), room: make(chan struct{}, 1)}
	if rc != nil {
		cc.w = rc
	}
	go cc.readLoop(max(0, c.opts.PollWindow))
	go cc.sendLoop(&c.nextID)
	if n := int(cc.hello.Limits.MaxBatchItems); n > 0 && n < cc.max {
		cc.max = n
	}
	return cc, nil
}

// checkServer reads who listens at the other end of conn (the kernel's
// SO_PEERCRED: the server's credentials when it called listen) and
// refuses any uid but those trusted (default: root and this process's).
func checkServer(conn net.Conn, trusted []uint32) error {
	uc, ok := conn.(*net.UnixConn)
	if !ok {
		return fmt.Errorf("%w: not a Unix socket", ErrUntrustedServer)
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return fmt.Errorf("%w: %v", ErrConnection, err)
	}
	var cred *unix.Ucred
	var cerr error
	if err := raw.Control(func(fd uintptr) { cred, cerr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED) }); err != nil || cerr != nil {
		return fmt.Errorf("%w: reading the server's credentials: %v %v", ErrConnection, err, cerr)
	}
	if trusted == nil {
		trusted = []uint32{0, uint32(os.Getuid())}
	}
	if !slices.Contains(trusted, cred.Uid) {
		return fmt.Errorf("%w: it is served by uid %d (pid %d); trusted: %v", ErrUntrustedServer, cred.Uid, cred.Pid, trusted)
	}
	return nil
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
	if cc.ring != nil {
		cc.ring.Close(cc.err)
		go cc.ring.Unmap() // once the reader and the writer have left it
	}
	for _, p := range pending {
		for _, cl := range p.calls {
			cl.finish(nil, cc.err)
		}
		if p.batch != nil {
			p.batch.finish(nil, nil, cc.err)
		}
	}
}

func (cl *call) finish(out api.Message, err error) {
	cl.out, cl.err = out, err
	close(cl.done)
}

// lone reports whether the connection is a synchronous caller's: at
// most one call awaits its answer, and no more than one has for the
// last concurrentMemory answers. Its reader polls only then: a program
// with concurrent callers keeps kmsd busy without it, and on a host of
// many such programs, polling would take the processor kmsd needs.
func (cc *clientConn) lone() bool {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	return cc.calls <= 1 && cc.concurrent == 0
}

// concurrentMemory is how many answers a connection that had more than
// one call in flight waits for before it counts as a lone caller's again.
const concurrentMemory = 64

// size is how many calls a request carries.
func (p pendingReq) size() int {
	if p.batch != nil {
		return p.batch.n
	}
	return len(p.calls)
}

// coalesced reports whether p is a frame of calls of a batchable
// operation, the frames send.go's window counts.
func (p pendingReq) coalesced() bool {
	return p.batch == nil && p.op != nil && p.op.Batch
}

// addPending records a request sent. The caller holds mu.
func (cc *clientConn) addPending(id uint64, p pendingReq) {
	cc.pending[id] = p
	if p.coalesced() {
		cc.frames++
	}
	if cc.calls += p.size(); cc.calls > 1 {
		cc.concurrent = concurrentMemory
	}
}

// takePending removes the request id answers, or one never sent. The
// caller holds mu.
func (cc *clientConn) takePending(id uint64) (pendingReq, bool) {
	p, ok := cc.pending[id]
	if ok {
		delete(cc.pending, id)
		if p.coalesced() {
			cc.frames--
			select {
			case cc.room <- struct{}{}:
			default:
			}
		}
		cc.calls -= p.size()
		cc.concurrent = max(0, cc.concurrent-1)
	}
	return p, ok
}

// decode decodes a response and takes the request it answers from the
// pending ones. An explicit batch's results are decoded in place (the
// frame becomes theirs); coalesced calls get copies, so the frame's
// buffer is read into again (a new one per frame costs more than the
// copies).
func (cc *clientConn) decode(body []byte) (pendingReq, *wire.Response, error) {
	id, err := wire.ResponseID(body)
	if err != nil {
		return pendingReq{}, nil, err
	}
	cc.mu.Lock()
	p, ok := cc.takePending(id)
	cc.mu.Unlock()
	decode := wire.DecodeResponseCopy
	if p.batch != nil {
		decode = wire.DecodeResponse
	}
	resp, err := decode(body, func(uint64) (*api.OpSpec, bool) { return p.op, ok })
	return p, resp, err
}

// readLoop reads responses and completes their calls. With at most one
// call in flight (a synchronous caller's, or none just after its answer,
// when the caller is likely to call again at once) it polls the socket
// for up to window before it sleeps. With more, kmsd has work queued and
// the processor is better left to it.
func (cc *clientConn) readLoop(window time.Duration) {
	r := wire.NewFrameReader(poll.NewReader(cc.conn, window, cc.lone, nil), 64<<10, wire.MaxFrame)
	if cc.ring != nil {
		cc.ring.SetPoll(window, cc.lone, nil)
		r = wire.NewFrameReader(cc.ring, 0, wire.MaxFrame) // no read-ahead: a ring read costs no system call
	}
	var buf []byte
	for {
		n, err := r.Next()
		if err != nil {
			cc.fail(err)
			return
		}
		if cap(buf) < n {
			// A large answer is mostly an explicit batch's, which its
			// results keep: made to its size, not its pool class's.
			buf = wire.GetKeptFrameBuffer(n)
		}
		body, err := r.Body(buf[:n])
		if err != nil {
			cc.fail(err)
			return
		}
		buf = body[:0]
		p, resp, err := cc.decode(body)
		if err != nil {
			cc.fail(err)
			return
		}
		var kept *frame
		if p.batch != nil && resp.Type == wire.TypeBatchResponse && resp.Err == nil {
			kept = &frame{buf: body} // an explicit batch's results refer into the frame: it is theirs now
			buf = nil
		}
		switch {
		case p.batch != nil:
			if resp.Err == nil && len(resp.Items) != p.batch.n {
				cc.fail(fmt.Errorf("batch response has %d items for %d requests", len(resp.Items), p.batch.n))
				return
			}
			if resp.Err != nil {
				p.batch.finish(nil, nil, resp.Err)
			} else {
				p.batch.finish(resp.Items, kept, nil)
			}
		case resp.Err != nil:
			for _, cl := range p.calls {
				cl.finish(nil, resp.Err)
			}
		case resp.Type == wire.TypeResponse:
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
		switch {
		case buf == nil:
		case cap(buf) >= wire.BigFrame:
			wire.PutKeptFrameBuffer(body) // wiped; large buffers are shared, not kept per connection
			buf = nil
		default:
			clear(body) // it may hold plaintext (Decrypt, data keys)
		}
	}
}
