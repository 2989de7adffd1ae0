package socket

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"kmsd/daemon/identity"
	"kmsd/daemon/pipeline"
	"kmsd/daemon/policy"
	"kmsd/wire/api"
)

// Config configures a Server. Every field must be set but Log.
type Config struct {
	Pipeline  *pipeline.Pipeline
	Admission *pipeline.Admission
	// Hello and Status are the connection's own answers.
	Hello  func() *api.HelloOutput
	Status func(ctx context.Context) *api.StatusOutput
	Log    *slog.Logger
	// Metrics says the pipeline has an observer: requests note when they
	// were read.
	Metrics bool

	MaxInFlight  int           // per connection, in units (pipeline.Units)
	IdleTimeout  time.Duration // a connection idle this long is closed
	FrameTimeout time.Duration // for a frame's body once its header came
	WriteTimeout time.Duration // for a client to take its answers
	HelloTimeout time.Duration // for the first frame
	// PollWindow is how long a connection's reader polls its socket for
	// the next request, after reading one, before it sleeps in the kernel
	// (kmsd/internal/poll). Zero never polls.
	PollWindow time.Duration
	// RingSize is the size of each shared-memory ring a connection gets
	// when its client asks (ring.go) and names no size; 0 offers none.
	// MaxRingSize is the largest a client may name (below RingSize:
	// RingSize). MaxRings bounds the connections on rings, and the
	// memory of all rings at MaxRings times RingSize (a quarter of each
	// per uid): a larger ring counts as several; the others keep their
	// frames on the socket.
	RingSize    int
	MaxRingSize int
	MaxRings    int
}

// Server serves the socket's connections.
type Server struct {
	cfg Config
	p   *pipeline.Pipeline
	log *slog.Logger

	mu       sync.Mutex
	conns    map[*conn]struct{}
	ln       net.Listener
	closing  bool
	connWG   sync.WaitGroup
	accepted atomic.Int64
	rings    int            // connections on rings; guarded by mu
	ringMem  int            // the sizes of their rings, summed; guarded by mu
	ringsBy  map[uint32]int // ringMem, by uid; guarded by mu
}

// New makes a Server; Serve accepts connections.
func New(cfg Config) *Server {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &Server{cfg: cfg, p: cfg.Pipeline, log: cfg.Log, conns: map[*conn]struct{}{}, ringsBy: map[uint32]int{}}
}

// Serve accepts connections on l until Shutdown; it then returns nil.
func (s *Server) Serve(l net.Listener) error {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return errors.New("server is shut down")
	}
	s.ln = l
	s.mu.Unlock()
	var backoff acceptBackoff
	for {
		nc, err := l.Accept()
		if err != nil {
			s.mu.Lock()
			closing := s.closing
			s.mu.Unlock()
			switch {
			case closing:
				return nil
			case temporary(err):
				continue
			case resourceShortage(err):
				backoff.wait(s.log, err)
				continue
			}
			return err
		}
		backoff.accepted()
		if err := s.admitConn(nc); err != nil {
			return nil
		}
	}
}

// errClosing is admitConn's report that the server is shutting down.
var errClosing = errors.New("server is shutting down")

// admitConn admits and serves a connection just accepted, or closes it: one
// without peer credentials, or past the connection limits. It returns
// errClosing once the server is shutting down.
func (s *Server) admitConn(nc net.Conn) error {
	uc, ok := nc.(*net.UnixConn)
	if !ok {
		nc.Close()
		return nil
	}
	p, err := identity.FromConn(uc)
	if err != nil {
		s.log.Warn("refusing a connection without peer credentials", "err", err)
		nc.Close()
		return nil
	}
	c := newConn(s, uc, p)
	c.id = uint64(s.accepted.Load() + 1)
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		nc.Close()
		return errClosing
	}
	if ok, why := s.cfg.Admission.Admit(p.UID); !ok {
		s.mu.Unlock()
		nc.Close()
		s.cfg.Admission.Refused(p.UID, why)
		return nil
	}
	s.conns[c] = struct{}{}
	s.connWG.Add(1)
	s.mu.Unlock()
	s.accepted.Add(1)
	go func() {
		defer s.connWG.Done()
		c.serve()
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		s.cfg.Admission.Release(p.UID)
	}()
	return nil
}

// Shutdown stops accepting and reading, and lets every request already
// read finish and be answered. If ctx ends first, the remaining
// connections are closed without their answers.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	if s.ln != nil {
		s.ln.Close()
	}
	for c := range s.conns {
		c.stopReading()
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.connWG.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		s.mu.Lock()
		for c := range s.conns {
			c.nc.Close()
		}
		s.mu.Unlock()
		<-done
		return ctx.Err()
	}
}

// Conns is the number of open connections.
func (s *Server) Conns() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// Principals returns the callers of the open connections.
func (s *Server) Principals() []*policy.Principal {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ps []*policy.Principal
	for c := range s.conns {
		ps = append(ps, c.caller.P)
	}
	return ps
}

// acceptBackoff is the wait after an accept that failed for want of a
// resource (descriptors, memory): it doubles from 5 ms to 1 s and is
// reset by the next accept that works. The connection waits in the
// listen queue meanwhile; kmsd never exits for it.
type acceptBackoff struct {
	d      time.Duration
	logged time.Time
}

// resourceShortage reports whether err is an accept that may work later.
func resourceShortage(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) ||
		errors.Is(err, syscall.ENOBUFS) || errors.Is(err, syscall.ENOMEM)
}

// wait sleeps before the next accept and logs, at most every 10 s.
func (b *acceptBackoff) wait(log *slog.Logger, err error) {
	b.d = min(time.Second, max(5*time.Millisecond, 2*b.d))
	if time.Since(b.logged) >= pipeline.RefusalLogEvery {
		b.logged = time.Now()
		log.Error("cannot accept connections; retrying", "err", err, "retry_in", b.d.String())
	}
	time.Sleep(b.d)
}

// accepted resets the backoff.
func (b *acceptBackoff) accepted() { b.d = 0 }

// temporary reports whether an accept error is a timeout to retry at once.
func temporary(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
