package daemon

import (
	"context"
	"log/slog"
	"net"
	"runtime"
	rtmetrics "runtime/metrics"
	"sync/atomic"
	"time"

	"kmsd/daemon/audit"
	"kmsd/daemon/awsapi"
	"kmsd/daemon/hostops"
	"kmsd/daemon/kms"
	"kmsd/daemon/pipeline"
	"kmsd/daemon/socket"
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

	Workers      int // crypto workers; default: the physical cores kmsd may use (defaultWorkers)
	QueueSize    int // crypto queue; default 4096
	AdminWorkers int // management workers; default 2
	AdminQueue   int // management queue; default 256
	MaxInFlight  int // per connection, in requests of up to 16 KiB (larger ones count per 16 KiB); default 1024
	// MaxInFlightTotal bounds the same across all connections; default
	// 2048 (32 MiB). Requests past it are answered ThrottlingException.
	MaxInFlightTotal int
	// MaxInFlightPerUID is one uid's share of MaxInFlightTotal: past it,
	// that uid's connections wait (package pipeline); default a quarter of it.
	MaxInFlightPerUID int
	IdleTimeout       time.Duration // default 5 minutes
	FrameTimeout      time.Duration // for a frame's body once its header came; default 10s
	WriteTimeout      time.Duration // default 10s
	// MaxConns bounds the connections served at once; default: the
	// open-file limit less 256, at least 64. MaxConnsPerUID bounds one
	// uid's (not root's); default MaxConns/8, at least 16. A connection
	// past either is closed at once (pipeline.Admission).
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
	// RingSize is the size of each shared-memory ring a client may take
	// for its connection (socket.Config.RingSize; 0: none), MaxRingSize
	// the largest a client may ask for, and MaxRings how many connections
	// may have them at once (and, times RingSize, their memory).
	RingSize, MaxRingSize, MaxRings int
}

// Server is kmsd's request path and its front ends, composed: the
// pipeline every request takes (package pipeline), the socket's
// connections (package socket), and the FUSE view and the AWS endpoint,
// which call the same pipeline.
type Server struct {
	cfg   Config
	log   *slog.Logger
	start time.Time

	p     *pipeline.Pipeline
	admit *pipeline.Admission
	sock  *socket.Server
	// fuseSessions numbers FUSE callers for audit request ids.
	fuseSessions atomic.Uint64

	host    *hostops.Ops // backups, the root key
	keys    *awsapi.Keys // the AWS endpoint's access keys
	metrics *metrics     // nil unless Config.Metrics
}

// NewServer starts the worker pools; Serve accepts connections.
func NewServer(cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Workers <= 0 {
		cfg.Workers = defaultWorkers(cfg.CPU.PhysicalCores, runtime.GOMAXPROCS(0))
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
	cfg.MaxInFlight = max(cfg.MaxInFlight, pipeline.Units(wire.MaxFrame))
	if cfg.MaxInFlightTotal <= 0 {
		cfg.MaxInFlightTotal = 2048
	}
	if cfg.MaxInFlightPerUID <= 0 {
		cfg.MaxInFlightPerUID = max(pipeline.Units(wire.MaxFrame), cfg.MaxInFlightTotal/4)
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
	s := &Server{cfg: cfg, log: cfg.Logger, start: time.Now(),
		admit: pipeline.NewAdmission(cfg.MaxConns, cfg.MaxConnsPerUID, awsapi.AWSUnauthConns, cfg.Logger),
		keys:  awsapi.NewKeys(cfg.Service, cfg.Logger),
		host: &hostops.Ops{Service: cfg.Service, Audit: cfg.Audit, RootKeyFile: cfg.RootKeyFile, Version: cfg.Version,
			LocalMeta: localMeta, Log: cfg.Logger}}
	pc := pipeline.Config{Exec: s.call, ExecBatch: s.callBatch, Audit: cfg.Audit, Log: cfg.Logger,
		Workers: cfg.Workers, QueueSize: cfg.QueueSize, AdminWorkers: cfg.AdminWorkers, AdminQueue: cfg.AdminQueue,
		MaxInFlightTotal: cfg.MaxInFlightTotal, MaxInFlightPerUID: cfg.MaxInFlightPerUID}
	if cfg.Metrics {
		s.metrics = newMetrics(s)
		pc.Observer = s.metrics
	}
	s.p = pipeline.New(pc)
	s.sock = socket.New(socket.Config{Pipeline: s.p, Admission: s.admit, Hello: s.hello, Status: s.status,
		Log: cfg.Logger, Metrics: cfg.Metrics, MaxInFlight: cfg.MaxInFlight, IdleTimeout: cfg.IdleTimeout,
		FrameTimeout: cfg.FrameTimeout, WriteTimeout: cfg.WriteTimeout, HelloTimeout: cfg.HelloTimeout,
		PollWindow: cfg.PollWindow, RingSize: cfg.RingSize, MaxRingSize: cfg.MaxRingSize, MaxRings: cfg.MaxRings})
	return s
}

// defaultWorkers is the crypto workers for physical cores (as cpuid
// reports them: the machine's, or a hypervisor's invention, 254 on some
// VMs) and usable, the CPUs kmsd may run on (GOMAXPROCS: its affinity
// and its cgroup's CPU quota): one per physical core kmsd may use.
func defaultWorkers(physical, usable int) int {
	if physical >= 1 && physical <= usable {
		return physical
	}
	return max(1, usable)
}

// Serve accepts socket connections on l until Shutdown; it then returns
// nil.
func (s *Server) Serve(l net.Listener) error { return s.sock.Serve(l) }

// Shutdown stops accepting and reading, lets every request already read
// finish and be answered, and stops the workers. If ctx ends first, the
// remaining connections are closed without their answers.
func (s *Server) Shutdown(ctx context.Context) error {
	s.p.Stopping()
	err := s.sock.Shutdown(ctx)
	s.p.Stop()
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
	n := s.sock.Conns()
	requests, batches, throttled := s.p.Stats()
	state, audit, warning := s.disk()
	return &api.StatusOutput{
		ServerVersion: s.cfg.Version, Suite: s.cfg.Service.Suite().String(), CPU: s.cpu(),
		StartTime: s.start.UTC(), UptimeSeconds: int64(time.Since(s.start).Seconds()),
		KeyCount: int64(s.cfg.Service.VisibleKeyCount(ctx)), Connections: int64(n),
		Workers: int32(s.cfg.Workers), QueueDepth: int32(s.p.QueueDepth()), QueueCapacity: int32(s.cfg.QueueSize),
		Requests: requests, BatchRequests: batches, Throttled: throttled,
		Audit: s.auditState(), HeapAllocs: heapAllocs(),
		StateFreeBytes: state, AuditFreeBytes: audit, DiskWarning: warning,
		Fleet: s.fleetStatus(),
	}
}

// fleetStatus is Status's fleet part, zero outside a fleet.
func (s *Server) fleetStatus() api.FleetStatus {
	f, ok := s.cfg.Service.FleetStatus()
	if !ok {
		return api.FleetStatus{}
	}
	return api.FleetStatus{Host: f.Host, Revision: f.Revision, StalenessMillis: f.Staleness.Milliseconds(),
		MaxStalenessMillis: f.MaxStaleness.Milliseconds(), Leader: f.Leading, Error: f.Error}
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
