package daemon

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

// AWSEndpoint serves the AWS KMS JSON 1.1 protocol (package awsjson) as a
// front end of the server: each request is one call through the in-flight
// budget, authorization, the service and the audit trail (source "aws"),
// as the caller the connection names. On a Unix socket that is the peer's
// kernel credentials, as on the msgpack socket (a signature the SDK adds is
// ignored there); on TCP it is the principal of the access key that signed
// the request (Signature Version 4), and unsigned or badly signed requests
// are refused.
type AWSEndpoint struct {
	s        *Server
	http     *http.Server
	tcp      bool
	conn     atomic.Uint64
	log      *slog.Logger
	mu       sync.Mutex
	refusals map[string]*refusalCount // by code, for refusedRequest

	// Verify authenticates a request over TCP; nil refuses them all.
	Verify func(r *http.Request, body []byte) (*policy.Principal, *api.Error)
}

// awsConnKey is the context key of a connection's caller.
type awsConnKey struct{}

// awsConn is what a connection's requests share.
type awsConn struct {
	id uint64
	p  *policy.Principal // from SO_PEERCRED on a Unix socket; nil on TCP
	n  atomic.Uint64
}

// NewAWSEndpoint makes the endpoint; tcp says its listener is TCP.
func (s *Server) NewAWSEndpoint(tcp bool) *AWSEndpoint {
	a := &AWSEndpoint{s: s, tcp: tcp, log: s.log, Verify: s.verifyAWS}
	a.http = &http.Server{
		Handler:           a,
		ReadHeaderTimeout: awsHeaderTimeout,
		ReadTimeout:       awsRequestTimeout,
		WriteTimeout:      awsRequestTimeout,
		IdleTimeout:       awsIdleTimeout,
		MaxHeaderBytes:    awsMaxHeader,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
		ConnContext:       a.connContext,
	}
	return a
}

// Serve answers requests on ln until Shutdown. Its connections count
// against kmsd's connection limits with the socket's (--max-connections,
// --max-connections-per-uid, by the peer's uid on a Unix socket; TCP
// connections, whose callers are known only per request, share one
// uid's worth): past them a connection is closed at once.
func (a *AWSEndpoint) Serve(ln net.Listener) error {
	if err := a.http.Serve(admitting{ln, a.s}); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Shutdown stops accepting, and waits for requests in flight until ctx
// is done.
func (a *AWSEndpoint) Shutdown(ctx context.Context) error { return a.http.Shutdown(ctx) }

// tcpUID is the uid the AWS endpoint's TCP connections are counted under.
const tcpUID = ^uint32(0) - 1

// admitting is the AWS endpoint's listener: it admits a connection as the
// socket does (admit), or closes it.
type admitting struct {
	net.Listener
	s *Server
}

func (l admitting) Accept() (net.Conn, error) {
	for {
		nc, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		uid := tcpUID
		uc, isUnix := nc.(*net.UnixConn)
		if isUnix {
			cred, err := peerUID(uc)
			if err != nil {
				nc.Close()
				continue
			}
			uid = cred
		}
		l.s.mu.Lock()
		ok, why := l.s.admit(uid)
		if ok {
			l.s.awsConns++
		}
		l.s.mu.Unlock()
		if !ok {
			nc.Close()
			l.s.refused(uid, why+" (AWS endpoint)")
			continue
		}
		return &counted{Conn: nc, uc: uc, uid: uid, s: l.s}, nil
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
	uid  uint32
	s    *Server
	once sync.Once
}

func (c *counted) Close() error {
	c.once.Do(func() {
		c.s.mu.Lock()
		c.s.release(c.uid)
		c.s.awsConns--
		c.s.mu.Unlock()
	})
	return c.Conn.Close()
}

// connContext names a new connection's caller: on a Unix socket, from the
// kernel, once for all its requests.
func (a *AWSEndpoint) connContext(ctx context.Context, nc net.Conn) context.Context {
	c := &awsConn{id: a.conn.Add(1)}
	if cc, ok := nc.(*counted); ok && cc.uc != nil {
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
func (a *AWSEndpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
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
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, awsMaxBody))
	defer clear(body) // it may hold plaintext, in base64
	if err != nil {
		a.fail(w, http.StatusRequestEntityTooLarge, &api.Error{Code: api.CodeValidation, Message: "the request body is over " + strconv.Itoa(awsMaxBody) + " bytes, or was cut"})
		return
	}
	p := c.p
	if a.tcp {
		var werr *api.Error
		if a.Verify == nil {
			werr = &api.Error{Code: CodeMissingAuthenticationToken, Message: "this endpoint takes requests signed with an access key kmsd issued"}
		} else {
			p, werr = a.Verify(r, body)
		}
		if werr != nil {
			a.refusedRequest(werr.Code, r.RemoteAddr)
			a.fail(w, 0, werr)
			return
		}
	}
	if p == nil {
		a.fail(w, 0, &api.Error{Code: api.CodeAccessDenied, Message: "the request carries no caller identity"})
		return
	}
	in := spec.NewInput()
	if err := awsjson.Decode(body, in); err != nil {
		a.fail(w, 0, &api.Error{Code: api.CodeValidation, Message: "the " + op + " request is not valid: " + err.Error()})
		return
	}
	out, err := a.s.frontQueued(r.Context(), p, p.String(), rid, op, in)
	if err != nil {
		var werr *api.Error
		if !errors.As(err, &werr) {
			werr = &api.Error{Code: api.CodeInternal, Message: op + " failed inside kmsd; the daemon log has the cause"}
		}
		a.fail(w, 0, werr)
		return
	}
	b, err := awsjson.Encode(out)
	wipeOutput(out)
	defer clear(b)
	if err != nil {
		a.s.log.Error("aws endpoint: encoding an answer", "op", op, "err", err)
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
func (a *AWSEndpoint) refusedRequest(code, remote string) {
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

// refusalCount is how many requests were refused for a code since it was
// last logged.
type refusalCount struct {
	n      int
	logged time.Time
}

// fail answers an error: status, or the one AWS gives the code if 0.
func (a *AWSEndpoint) fail(w http.ResponseWriter, status int, e *api.Error) {
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
