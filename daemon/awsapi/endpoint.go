package awsapi

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"kmsd/daemon/identity"
	"kmsd/daemon/policy"
	"kmsd/wire/api"
	"kmsd/wire/awsjson"
)

// The AWS endpoint's bounds: what one request may hold and how long a
// connection may take over each part of it.
const (
	awsMaxBody        = 256 << 10 // a 32 KiB policy, escaped, fits many times over
	awsMaxHeader      = 16 << 10
	awsHeaderTimeout  = 5 * time.Second
	awsRequestTimeout = 30 * time.Second
	awsIdleTimeout    = 2 * time.Minute
)

// The AWS endpoint's own error codes: its authentication's, as AWS names
// them (they are not KMS exceptions, and the msgpack socket never answers
// them).
const (
	CodeMissingAuthenticationToken = "MissingAuthenticationTokenException"
	CodeIncompleteSignature        = "IncompleteSignatureException"
	CodeUnrecognizedClient         = "UnrecognizedClientException"
	CodeInvalidSignature           = "InvalidSignatureException"
)

// Endpoint serves the AWS KMS JSON 1.1 protocol (package awsjson) as a
// front end of the server: each request is one call through the in-flight
// budget, authorization, the service and the audit trail (source "aws"),
// as the caller the connection names. On a Unix socket that is the peer's
// kernel credentials, as on the msgpack socket (a signature the SDK adds is
// ignored there); on TCP it is the principal of the access key that signed
// the request (Signature Version 4), and unsigned or badly signed requests
// are refused.
type Endpoint struct {
	p        Pipeline
	keys     *Keys
	http     *http.Server
	tcp      bool
	conn     atomic.Uint64
	log      *slog.Logger
	mu       sync.Mutex
	refusals map[string]*refusalCount // by code, for refusedRequest
}

// Pipeline is what the endpoint needs of kmsd's request path: admission
// of connections (shared with kmsd's other listeners' limits), the
// in-flight budget, and the call itself (authorization, the service, the
// audit trail).
type Pipeline interface {
	// AdmitConn counts a new connection: of uid on a Unix socket, or on
	// TCP (unix false) in the allowance of connections not yet signed for
	// (AWSUnauthConns); why says why it is refused.
	AdmitConn(unix bool, uid uint32) (ok bool, why string)
	// KeyConn moves a TCP connection from that allowance to the access
	// key's; false if the key's is full.
	KeyConn(key string) bool
	// ReleaseConn uncounts a connection AdmitConn (and KeyConn) counted.
	ReleaseConn(unix bool, uid uint32, key string)
	// Refused logs a refused connection.
	Refused(uid uint32, why string)
	// Hold takes the in-flight units of a request of n bytes of uid, before
	// its body is read, waiting while uid's share is spent (until quit: ok
	// false); over says the server's budget is passed. release gives them
	// back.
	Hold(uid uint32, n int, quit <-chan struct{}) (over bool, release func(), ok bool)
	// Call serves op with in as p (principal is its name), recorded under
	// the request id rid, with the units Hold took (over as it said).
	Call(ctx context.Context, p *policy.Principal, principal, rid, op string, in api.Message, over bool) (api.Message, error)
	// Throttled is the answer to a request kmsd has no room for.
	Throttled() *api.Error
}

// awsConnKey is the context key of a connection's caller.
type awsConnKey struct{}

// awsConn is what a connection's requests share.
type awsConn struct {
	id uint64
	p  *policy.Principal // from SO_PEERCRED on a Unix socket; nil on TCP
	cc *counted          // the connection, as admitted
	n  atomic.Uint64
}

// New makes the endpoint over the request path p, its TCP requests signed
// with keys; tcp says its listener is TCP.
func New(p Pipeline, keys *Keys, tcp bool, log *slog.Logger) *Endpoint {
	a := &Endpoint{p: p, keys: keys, tcp: tcp, log: log}
	a.http = &http.Server{
		Handler:           a,
		ReadHeaderTimeout: awsHeaderTimeout,
		ReadTimeout:       awsRequestTimeout,
		WriteTimeout:      awsRequestTimeout,
		IdleTimeout:       awsIdleTimeout,
		MaxHeaderBytes:    awsMaxHeader,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
		ConnContext:       a.connContext,
	}
	return a
}

// Serve answers requests on ln until Shutdown. Its connections count
// against kmsd's connection limits with the socket's (--max-connections,
// and --max-connections-per-uid by the peer's uid on a Unix socket, by
// access key on TCP once a request names one; before that, TCP
// connections share awsUnauthConns): past them a connection is closed at
// once.
func (a *Endpoint) Serve(ln net.Listener) error {
	if err := a.http.Serve(admitting{ln, a.p}); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Shutdown stops accepting, and waits for requests in flight until ctx
// is done.
func (a *Endpoint) Shutdown(ctx context.Context) error { return a.http.Shutdown(ctx) }

// AWSUnauthConns bounds the AWS endpoint's TCP connections that have not
// yet sent a request signed with a known access key: they share this
// small allowance (within kmsd's total), live at most the header timeout
// before their first request, and are closed after a refused one. A
// connection whose request names a known access key moves to that key's
// allowance (--max-connections-per-uid connections a key).
const AWSUnauthConns = 64

// tcpUID is what refusals of TCP connections, whose callers are not yet
// known, are logged under.
const tcpUID = ^uint32(0) - 1

// admitting is the AWS endpoint's listener: it admits a connection as the
// socket does (admit; on TCP, into the unauthenticated allowance), or
// closes it.
type admitting struct {
	net.Listener
	p Pipeline
}

func (l admitting) Accept() (net.Conn, error) {
	for {
		nc, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		uc, isUnix := nc.(*net.UnixConn)
		uid := tcpUID
		if isUnix {
			cred, err := peerUID(uc)
			if err != nil {
				nc.Close()
				continue
			}
			uid = cred
		}
		if ok, why := l.p.AdmitConn(isUnix, uid); !ok {
			nc.Close()
			l.p.Refused(uid, why+" (AWS endpoint)")
			continue
		}
		return &counted{Conn: nc, uc: uc, uid: uid, tcp: !isUnix, p: l.p}, nil
	}
}

// peerUID is a Unix connection's peer uid (SO_PEERCRED).
func peerUID(uc *net.UnixConn) (uint32, error) {
	raw, err := uc.SyscallConn()
	if err != nil {
		return 0, err
	}
	var uid uint32
	var cerr error
	if err := raw.Control(func(fd uintptr) {
		var cred *unix.Ucred
		if cred, cerr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED); cerr == nil {
			uid = cred.Uid
		}
	}); err != nil {
		return 0, err
	}
	return uid, cerr
}

// counted is an admitted connection: closing it gives back its place.
type counted struct {
	net.Conn
	uc   *net.UnixConn // nil on TCP
	uid  uint32        // the peer's, on a Unix socket
	tcp  bool
	p    Pipeline
	once sync.Once

	mu  sync.Mutex
	key string // on TCP, the access key it moved to (keyConn)
}

// keyConn moves a TCP connection whose request names the access key key
// to that key's allowance (Pipeline.KeyConn), once: it stays with the
// first key it names. False if the key's allowance is full.
func (c *counted) keyConn(key string) bool {
	if c == nil || !c.tcp {
		return true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.key != "" {
		return true
	}
	if !c.p.KeyConn(key) {
		return false
	}
	c.key = key
	return true
}

func (c *counted) Close() error {
	c.once.Do(func() {
		c.mu.Lock()
		key := c.key
		c.mu.Unlock()
		c.p.ReleaseConn(!c.tcp, c.uid, key)
	})
	return c.Conn.Close()
}

// connContext names a new connection's caller: on a Unix socket, from the
// kernel, once for all its requests.
func (a *Endpoint) connContext(ctx context.Context, nc net.Conn) context.Context {
	c := &awsConn{id: a.conn.Add(1)}
	cc, _ := nc.(*counted)
	c.cc = cc
	if cc != nil && cc.uc != nil {
		uc := cc.uc
		if p, err := identity.FromConn(uc); err == nil {
			p.Source = "aws"
			c.p = p
		} else {
			a.log.Warn("aws endpoint: a connection without peer credentials", "err", err)
		}
	}
	return context.WithValue(ctx, awsConnKey{}, c)
}

// ServeHTTP answers one request.
func (a *Endpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c, _ := r.Context().Value(awsConnKey{}).(*awsConn)
	if c == nil {
		c = &awsConn{}
	}
	rid := "aws:" + strconv.FormatUint(c.id, 10) + ":" + strconv.FormatUint(c.n.Add(1), 10)
	w.Header().Set("X-Amzn-Requestid", rid)
	if r.Method != http.MethodPost || r.URL.Path != "/" {
		a.fail(w, http.StatusNotFound, &api.Error{Code: "UnknownOperationException", Message: "kmsd's AWS endpoint answers POST / only"})
		return
	}
	op, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), awsjson.TargetPrefix)
	spec := api.Lookup(op)
	if !ok || spec == nil || spec.Own {
		a.fail(w, 0, &api.Error{Code: api.CodeUnknownOperation, Message: "X-Amz-Target " + strconv.Quote(r.Header.Get("X-Amz-Target")) + " names no operation kmsd serves"})
		return
	}
	// Before the body is read: its length, declared; on TCP, the access
	// key the signature header names (an unsigned or unknown one is
	// refused with its body unread, and the connection closed); the
	// body's in-flight units, charged to its user.
	if r.ContentLength < 0 {
		a.refuse(w, http.StatusLengthRequired, &api.Error{Code: api.CodeValidation, Message: "a request needs a Content-Length (kmsd's AWS endpoint takes no chunked bodies)"})
		return
	}
	if r.ContentLength > awsMaxBody {
		a.refuse(w, http.StatusRequestEntityTooLarge, &api.Error{Code: api.CodeValidation, Message: "the request body is over " + strconv.Itoa(awsMaxBody) + " bytes"})
		return
	}
	p := c.p
	if a.tcp {
		var werr *api.Error
		var key string
		if p, key, werr = a.keys.Identify(r); werr == nil && !c.cc.keyConn(key) {
			a.refuse(w, 0, a.p.Throttled()) // the key's connections are at their limit
			return
		}
		if werr != nil {
			a.refusedRequest(werr.Code, r.RemoteAddr)
			a.refuse(w, 0, werr)
			return
		}
	}
	if p == nil {
		a.fail(w, 0, &api.Error{Code: api.CodeAccessDenied, Message: "the request carries no caller identity"})
		return
	}
	over, release, ok := a.p.Hold(p.UID, int(r.ContentLength), r.Context().Done())
	if !ok {
		return // the client went away while its user's share was spent
	}
	defer release()
	body := make([]byte, r.ContentLength)
	defer clear(body) // it may hold plaintext, in base64
	if _, err := io.ReadFull(r.Body, body); err != nil {
		a.refuse(w, http.StatusBadRequest, &api.Error{Code: api.CodeValidation, Message: "the request body is shorter than its Content-Length"})
		return
	}
	if a.tcp {
		if _, werr := a.keys.Verify(r, body, spec); werr != nil {
			a.refusedRequest(werr.Code, r.RemoteAddr)
			a.refuse(w, 0, werr)
			return
		}
	}
	in := spec.NewInput()
	if err := awsjson.Decode(body, in); err != nil {
		a.fail(w, 0, &api.Error{Code: api.CodeValidation, Message: "the " + op + " request is not valid: " + err.Error()})
		return
	}
	out, err := a.p.Call(r.Context(), p, p.String(), rid, op, in, over)
	if err != nil {
		var werr *api.Error
		if !errors.As(err, &werr) {
			werr = &api.Error{Code: api.CodeInternal, Message: op + " failed inside kmsd; the daemon log has the cause"}
		}
		a.fail(w, 0, werr)
		return
	}
	b, err := awsjson.Encode(out)
	api.WipeOutput(out)
	defer clear(b)
	if err != nil {
		a.log.Error("aws endpoint: encoding an answer", "op", op, "err", err)
		a.fail(w, 0, &api.Error{Code: api.CodeInternal, Message: op + " failed inside kmsd; the daemon log has the cause"})
		return
	}
	w.Header().Set("Content-Type", awsjson.ContentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.Write(b)
}

// refusedRequest logs a request refused for its signature: at most once a
// minute per code, with the count since, so that a flood of unsigned or
// badly signed requests cannot fill the log.
func (a *Endpoint) refusedRequest(code, remote string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.refusals == nil {
		a.refusals = map[string]*refusalCount{}
	}
	c := a.refusals[code]
	if c == nil {
		c = &refusalCount{}
		a.refusals[code] = c
	}
	c.n++
	if now := time.Now(); now.Sub(c.logged) >= refusalLogEvery {
		a.log.Warn("aws endpoint: requests refused", "code", code, "refused", c.n, "last_remote", remote)
		c.n, c.logged = 0, now
	}
}

// refusalLogEvery is how often refusals of one code are logged at most.
const refusalLogEvery = 10 * time.Second

// refusalCount is how many requests were refused for a code since it was
// last logged.
type refusalCount struct {
	n      int
	logged time.Time
}

// refuse answers an error and closes the connection after it, its body
// (if any) unread: the read deadline, now past, keeps net/http from
// reading the rest of the body to discard it (which a slow sender would
// stretch to the request timeout).
func (a *Endpoint) refuse(w http.ResponseWriter, status int, e *api.Error) {
	w.Header().Set("Connection", "close")
	a.fail(w, status, e)
	rc := http.NewResponseController(w)
	rc.Flush()
	rc.SetReadDeadline(time.Now())
}

// fail answers an error: status, or the one AWS gives the code if 0.
func (a *Endpoint) fail(w http.ResponseWriter, status int, e *api.Error) {
	if status == 0 {
		status = awsjson.Status(e.Code)
	}
	b := awsjson.ErrorBody(e.Code, e.Message)
	h := w.Header()
	h.Set("Content-Type", awsjson.ContentType)
	h.Set("X-Amzn-Errortype", e.Code)
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
}
