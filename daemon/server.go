package daemon

import (
	"context"
	"errors"
	"kmsd/daemon/awsapi"
	"kmsd/daemon/hostops"
	"log/slog"
	"net"
	rtmetrics "runtime/metrics"
	"sync"
	"sync/atomic"
	"time"

	"kmsd/daemon/audit"
	"kmsd/daemon/identity"
	"kmsd/daemon/kms"
	"kmsd/keystore"
	"kmsd/wire"
	"kmsd/wire/api"
)

// Config configures a Server. Zero fields take the defaults noted.
type Config struct {
	Service  *kms.Service
	Audit    *audit.Writer // nil: no audit trail (benchmarks only)
	AuditDir string
	StateDir string // for the free space Status reports
	// RootKeyFile is the root key kmsd keeps in its state directory, which
	// RotateRootKey may replace; "" when it was given a file or a
	// credential.
	RootKeyFile string
	Logger      *slog.Logger
	Version     string
	CPU         keystore.CPUFeatures

	Workers      int // crypto workers; default: physical cores
	QueueSize    int // crypto queue; default 4096
	AdminWorkers int // management workers; default 2
	AdminQueue   int // management queue; default 256
	MaxInFlight  int // per connection, in requests of up to 16 KiB (larger ones count per 16 KiB); default 1024
	// MaxInFlightTotal bounds the same across all connections; default
	// 2048 (32 MiB). Requests past it are answered ThrottlingException.
	MaxInFlightTotal int
	// MaxInFlightPerUID is one uid's share of MaxInFlightTotal: past it,
	// that uid's connections wait (budget.go); default a quarter of it.
	MaxInFlightPerUID int
	IdleTimeout       time.Duration // default 5 minutes
	FrameTimeout      time.Duration // for a frame's body once its header came; default 10s
	WriteTimeout      time.Duration // default 10s
	// MaxConns bounds the connections served at once; default: the
	// open-file limit less 256, at least 64. MaxConnsPerUID bounds one
	// uid's (not root's); default MaxConns/8, at least 16. A connection
	// past either is closed at once (see admit.go).
	MaxConns, MaxConnsPerUID int
	// HelloTimeout closes a connection that sends no Hello within it;
	// default 5s.
	HelloTimeout time.Duration
	// FileLimit is the open-file limit MaxConns's default is taken from;
	// default: the process's soft limit.
	FileLimit int
	// Metrics turns on the Prometheus metrics (ServeMetrics serves them).
	Metrics bool
	// PollWindow is how long a connection's reader polls its socket for
	// the next request, after reading one, before it sleeps in the kernel
	// (kmsd/internal/poll): a synchronous caller's round trip then skips
	// the wake-up of a sleeping thread. Zero never polls.
	PollWindow time.Duration
}

// Server serves the key service on Unix socket connections.
type Server struct {
	cfg    Config
	log    *slog.Logger
	start  time.Time
	crypto *pool
	admin  *pool

	mu     sync.Mutex
	conns  map[*conn]struct{}
	perUID map[uint32]int // connections by uid (the socket's and the AWS endpoint's)
	// awsConns counts the AWS endpoint's connections, which share the
	// connection limits with the socket's (awsfront.go); awsUnauth, its TCP
	// connections not yet signed for, and perKey, the others by access key.
	awsConns, awsUnauth int
	perKey              map[string]int
	// refusals counts refused connections by uid since refusedAt, when
	// one was last logged.
	refusals  map[uint32]int
	refusedAt map[uint32]time.Time
	ln        net.Listener
	closing   bool
	connWG    sync.WaitGroup
	accepted  atomic.Int64
	// fuseSessions numbers FUSE callers for audit request ids.
	fuseSessions atomic.Uint64

	requests, batches, throttled atomic.Int64

	// held counts the units of requests in flight on every connection,
	// and heldPeak its highest value; shares, each uid's (budget.go).
	held, heldPeak atomic.Int64
	shares         *shares
	quit           chan struct{}  // closed at Shutdown: waits for budget end
	failures       *failureBudget // what failed requests may cost the trail (trailcost.go)
	host           *hostops.Ops   // backups, the root key
	keys           *awsapi.Keys   // the AWS endpoint's access keys
	metrics        *metrics       // nil unless Config.Metrics
	summariesDone  chan struct{}
}

// NewServer starts the worker pools; Serve accepts connections.
func NewServer(cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Workers <= 0 {
		cfg.Workers = max(1, cfg.CPU.PhysicalCores)
	}
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = 4096
	}
	if cfg.AdminWorkers <= 0 {
		cfg.AdminWorkers = 2
	}
	if cfg.AdminQueue <= 0 {
		cfg.AdminQueue = 256
	}
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = 1024
	}
	// A frame as large as the protocol allows must fit in the budget.
	cfg.MaxInFlight = max(cfg.MaxInFlight, units(wire.MaxFrame))
	if cfg.MaxInFlightTotal <= 0 {
		cfg.MaxInFlightTotal = 2048
	}
	if cfg.MaxInFlightPerUID <= 0 {
		cfg.MaxInFlightPerUID = max(units(wire.MaxFrame), cfg.MaxInFlightTotal/4)
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 5 * time.Minute
	}
	if cfg.FrameTimeout <= 0 {
		cfg.FrameTimeout = 10 * time.Second
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = 10 * time.Second
	}
	if cfg.FileLimit <= 0 {
		cfg.FileLimit = fileLimit()
	}
	connLimits(&cfg, cfg.FileLimit)
	s := &Server{cfg: cfg, log: cfg.Logger, start: time.Now(), conns: map[*conn]struct{}{},
		perUID: map[uint32]int{}, perKey: map[string]int{}, refusals: map[uint32]int{}, refusedAt: map[uint32]time.Time{},
		shares: newShares(cfg.MaxInFlightPerUID), keys: awsapi.NewKeys(cfg.Service, cfg.Logger),
		host: &hostops.Ops{Service: cfg.Service, Audit: cfg.Audit, RootKeyFile: cfg.RootKeyFile, Version: cfg.Version, LocalMeta: localMeta, Log: cfg.Logger}, quit: make(chan struct{}), failures: newFailureBudget(),
		summariesDone: make(chan struct{})}
	if cfg.Metrics {
		s.metrics = newMetrics(s)
	}
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		s.writeSummaries(s.quit, t.C)
		close(s.summariesDone)
	}()
	s.crypto = newPool(cfg.Workers, cfg.QueueSize, s.run)
	s.admin = newPool(cfg.AdminWorkers, cfg.AdminQueue, s.run)
	return s
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
	if ok, why := s.admit(p.UID); !ok {
		s.mu.Unlock()
		nc.Close()
		s.refused(p.UID, why)
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
		s.release(p.UID)
		s.mu.Unlock()
	}()
	return nil
}

// Shutdown stops accepting and reading, lets every request already read
// finish and be answered, and stops the workers. If ctx ends first, the
// remaining connections are closed without their answers.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if !s.closing {
		close(s.quit)
	}
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
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = ctx.Err()
		s.mu.Lock()
		for c := range s.conns {
			c.nc.Close()
		}
		s.mu.Unlock()
		<-done
	}
	s.crypto.stop()
	s.admin.stop()
	<-s.summariesDone
	s.flushSummaries()
	return err
}

func (s *Server) hello() *api.HelloOutput {
	return &api.HelloOutput{
		ProtocolVersion: wire.ProtocolVersion, ServerVersion: s.cfg.Version,
		Suite: s.cfg.Service.Suite().String(), CPU: s.cpu(),
		Limits: api.Limits{MaxFrame: wire.MaxFrame, MaxBatchItems: wire.MaxBatchItems,
			MaxInFlight: int32(s.cfg.MaxInFlight), MaxPlaintext: kms.MaxPlaintext, MaxCiphertextBlob: kms.MaxCiphertextBlob},
	}
}

func (s *Server) cpu() api.CPUFeatures {
	f := s.cfg.CPU
	return api.CPUFeatures{AESNI: f.AESNI, PCLMULQDQ: f.PCLMULQDQ, AVX2: f.AVX2, VAES: f.VAES, PhysicalCores: int32(f.PhysicalCores)}
}

func (s *Server) status(ctx context.Context) *api.StatusOutput {
	s.mu.Lock()
	n := len(s.conns)
	s.mu.Unlock()
	state, audit, warning := s.disk()
	return &api.StatusOutput{
		ServerVersion: s.cfg.Version, Suite: s.cfg.Service.Suite().String(), CPU: s.cpu(),
		StartTime: s.start.UTC(), UptimeSeconds: int64(time.Since(s.start).Seconds()),
		KeyCount: int64(s.cfg.Service.VisibleKeyCount(ctx)), Connections: int64(n),
		Workers: int32(s.cfg.Workers), QueueDepth: int32(s.crypto.depth()), QueueCapacity: int32(s.cfg.QueueSize),
		Requests: s.requests.Load(), BatchRequests: s.batches.Load(), Throttled: s.throttled.Load(),
		Audit: s.auditState(), HeapAllocs: heapAllocs(),
		StateFreeBytes: state, AuditFreeBytes: audit, DiskWarning: warning,
	}
}

// heapAllocs is the runtime's count of heap objects allocated so far
// (without stopping the world, as runtime.ReadMemStats would).
func heapAllocs() int64 {
	m := []rtmetrics.Sample{{Name: "/gc/heap/allocs:objects"}}
	rtmetrics.Read(m)
	if m[0].Value.Kind() != rtmetrics.KindUint64 {
		return 0
	}
	return int64(m[0].Value.Uint64())
}

func (s *Server) auditState() string {
	switch {
	case s.cfg.Audit == nil:
		return "off"
	case s.cfg.Audit.Healthy():
		return "ok"
	}
	return "down"
}
