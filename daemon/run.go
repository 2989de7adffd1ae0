package daemon

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"kmsd/daemon/awsapi"
	"kmsd/daemon/socket"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"kmsd/daemon/audit"
	"kmsd/daemon/k8skms"
	"kmsd/daemon/kms"
	"kmsd/fusefs"
	"kmsd/internal/version"
	"kmsd/keystore"
	"kmsd/keystore/badgerstore"
	"kmsd/keystore/etcdstore"
	"kmsd/keystore/statedir"
	"kmsd/wire/api"
)

// Version is kmsd's version: the commit it was built from, as kmsctl's
// (see package kmsd/internal/version).
var Version = version.String()

// Options are kmsd's settings, from its flags.
type Options struct {
	StateDir     string
	Socket       string
	SocketMode   os.FileMode
	SocketGroup  string
	RootKeyFile  string
	Suite        string // auto, xaes or xchacha
	Workers      int
	QueueSize    int
	DrainTimeout time.Duration
	AdminGroup   string // named in the default policy of new keys
	AuditDir     string // default STATE_DIR/audit
	AuditSync    string // interval (default), batch, always or none
	// AuditFlushInterval bounds a record's wait for its flush in interval
	// mode; default 5ms.
	AuditFlushInterval time.Duration
	// AuditRetainBytes and AuditRetainAge, if set, retire the trail's
	// oldest files past that total size or age (audit.Config).
	AuditRetainBytes int64
	AuditRetainAge   time.Duration
	// AuditCheckpointExport, if set, is where each signed checkpoint is
	// copied too: a directory (another mount), or "journal".
	AuditCheckpointExport string
	NoAudit               bool // no audit trail at all: for measurements only
	// MaxConns, MaxConnsPerUID and HelloTimeout bound connections
	// (Config); zero takes the defaults.
	MaxConns, MaxConnsPerUID int
	HelloTimeout             time.Duration
	// MetricsListen, if set, serves Prometheus metrics there:
	// "unix:PATH" or "tcp:HOST:PORT".
	MetricsListen string
	// AWSListen, if set, serves the AWS KMS JSON 1.1 protocol there
	// (package awsapi): "unix:PATH" or "tcp:HOST:PORT".
	AWSListen string
	// K8sKMSListen, if set, serves the Kubernetes KMS v2 plugin (package
	// k8skms) there, "unix:PATH", under K8sKMSKey (a key id, ARN or
	// alias); the socket's mode (default 0600) and group are
	// K8sKMSSocketMode and K8sKMSSocketGroup.
	K8sKMSListen, K8sKMSKey string
	K8sKMSSocketMode        os.FileMode
	K8sKMSSocketGroup       string
	// Region and AccountID are those of kmsd's ARNs
	// (arn:aws:kms:REGION:ACCOUNT:key/ID); "" takes kms.DefaultRegion and
	// kms.DefaultAccountID.
	Region, AccountID string
	// PollWindow is how long a connection polls for its next request
	// before it sleeps (Config.PollWindow).
	PollWindow time.Duration
	// RingSize, MaxRingSize and MaxRings are the shared-memory rings
	// offered to clients (Config.RingSize).
	RingSize, MaxRingSize, MaxRings int
	// Fleet, if set, keeps the keys in etcd, shared with the fleet's
	// other hosts, instead of in STATE_DIR's Badger store.
	Fleet      *FleetOptions
	Mount      string // if set, where the FUSE view is mounted
	MountAllow bool   // --mount-allow-other: other users may use the mount
	MountDebug bool   // trace every FUSE request
	Logger     *slog.Logger
	// Ready, if set, is called once the socket accepts connections.
	Ready func()
}

// Run runs kmsd until ctx is cancelled (SIGTERM, SIGINT), then drains
// in-flight requests and closes the store. Cancellation is not an error.
// Its steps: open the key service on the state directory, open the audit
// trail, listen, serve (and mount), and on cancellation stop in order.
func Run(ctx context.Context, o Options) error {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	// No core dumps and no ptrace by other users: memory holds key material.
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		log.Warn("could not turn off core dumps", "err", err)
	}
	o.AuditDir = auditDir(o)
	files := RaiseFileLimit(log)
	cpu := keystore.DetectCPU()
	svc, lead, err := openService(o, cpu, log)
	if err != nil {
		return err
	}
	defer closeService(svc, lead, log)
	aw, err := openAudit(o, svc, log)
	if err != nil {
		return err
	}
	if aw != nil {
		defer closeAudit(aw, log)
	}
	ln, err := listen(&o, log)
	if err != nil {
		return err
	}
	srv := NewServer(Config{Service: svc, Audit: aw, AuditDir: o.AuditDir, StateDir: o.StateDir, RootKeyFile: ownRootKey(o), Logger: log, Version: Version, CPU: cpu,
		Workers: o.Workers, QueueSize: o.QueueSize, PollWindow: o.PollWindow, RingSize: o.RingSize, MaxRingSize: o.MaxRingSize, MaxRings: o.MaxRings, FileLimit: files,
		MaxConns: o.MaxConns, MaxConnsPerUID: o.MaxConnsPerUID, HelloTimeout: o.HelloTimeout, Metrics: o.MetricsListen != ""})
	return serve(ctx, o, srv, ln, log)
}

// openService opens the state directory (the store and its root key) and
// the key service over it.
func openService(o Options, cpu keystore.CPUFeatures, log *slog.Logger) (*kms.Service, *etcdstore.Leadership, error) {
	suite, err := keystore.ParseAlg(o.Suite)
	if err != nil {
		return nil, nil, err
	}
	if o.Region != "" || o.AccountID != "" {
		if err := kms.ValidateARNParts(cmp.Or(o.Region, kms.DefaultRegion), cmp.Or(o.AccountID, kms.DefaultAccountID)); err != nil {
			return nil, nil, err
		}
	}
	log.Info("starting kmsd", "version", Version, "cpu", cpu.Brand, "aesni", cpu.AESNI, "pclmulqdq", cpu.PCLMULQDQ,
		"avx2", cpu.AVX2, "vaes", cpu.VAES, "physical_cores", cpu.PhysicalCores, "suite", suite.String())
	if suite == keystore.AlgXAES256GCM && !cpu.HardwareAES() {
		log.Warn("XAES-256-GCM forced on a CPU without hardware AES: it is slow and not constant-time here")
	}
	cfg := kms.Config{Suite: suite, Logger: log, AdminGroup: o.AdminGroup, Region: o.Region, AccountID: o.AccountID}
	if tick, offset := testHooks(); tick != 0 || offset != 0 {
		cfg.TickInterval = tick
		cfg.TickNow = func() time.Time { return time.Now().Add(offset) }
	}
	var lead *etcdstore.Leadership
	if o.Fleet != nil {
		st, rk, err := openFleet(o, log)
		if err != nil {
			return nil, nil, err
		}
		local, err := badgerstore.Open(badgerstore.Options{Dir: filepath.Join(o.StateDir, "host-db"), Logger: log})
		if err != nil {
			st.Close()
			return nil, nil, fmt.Errorf("this host's own store: %w", err)
		}
		cfg.Store, cfg.RootKey, cfg.Local = st, rk, local
		cfg.Fleet, lead = fleetConfig(o, st, log)
		log.Info("fleet host", "host", o.Fleet.Host, "etcd", strings.Join(o.Fleet.Endpoints, ","), "prefix", st.Prefix(),
			"max_staleness", cmp.Or(o.Fleet.MaxStaleness, kms.DefaultMaxStaleness))
	} else {
		st, err := statedir.Open(statedir.Options{Dir: o.StateDir, RootKeyFile: statedir.RootKeyFile(o.RootKeyFile), Logger: log})
		if err != nil {
			return nil, nil, err
		}
		if st.CreatedRootKey {
			log.Warn("created a new root key; back it up, without it the keys cannot be unsealed", "path", statedir.RootKeyPath(o.StateDir))
		}
		cfg.Store, cfg.RootKey = st.Store, st.Root
	}
	svc, err := kms.Open(cfg)
	if err != nil {
		if lead != nil {
			lead.Stop()
		}
		cfg.Store.Close()
		if cfg.Local != nil {
			cfg.Local.Close()
		}
	}
	return svc, lead, err
}

func closeService(svc *kms.Service, lead *etcdstore.Leadership, log *slog.Logger) {
	if lead != nil {
		lead.Stop() // resign first: another host takes the scheduled work at once
	}
	if err := svc.Close(); err != nil {
		log.Error("closing the store", "err", err)
		return
	}
	log.Info("store closed")
}

// openAudit starts the audit trail (unless NoAudit): its MAC key comes
// from kmsd's own audit key, its last checkpoint is kept in the store, and
// the service's own events go into it.
func openAudit(o Options, svc *kms.Service, log *slog.Logger) (*audit.Writer, error) {
	if o.NoAudit {
		log.Warn("running WITHOUT an audit trail (--no-audit): nothing that happens is recorded")
		return nil, nil
	}
	mode, err := audit.ParseSyncMode(o.AuditSync)
	if err != nil {
		return nil, err
	}
	key, err := svc.AuditKey()
	if err != nil {
		return nil, fmt.Errorf("audit key: %w", err)
	}
	signer, err := auditSigner(svc)
	if err != nil {
		clear(key)
		return nil, err
	}
	export, err := auditExport(o.AuditCheckpointExport, signer.Name())
	if err != nil {
		clear(key)
		return nil, err
	}
	aw, err := audit.Open(audit.Config{Dir: o.AuditDir, Sync: mode, FlushInterval: o.AuditFlushInterval, MACKey: key,
		Signer: signer, Export: export, RetainBytes: o.AuditRetainBytes, RetainAge: o.AuditRetainAge,
		Host: fleetHostOf(svc), Store: checkpointsOf(svc), CountsUsage: api.IsKMSOperation, KeyUse: api.IsKeyUse, Logger: log})
	clear(key)
	if err != nil {
		signer.Zero()
		return nil, err
	}
	log.Info("audit checkpoints are signed", "public_key", signer.VerifierKey(), "export", o.AuditCheckpointExport)
	svc.OnEvent(func(e kms.Event) {
		if err := aw.Append(serviceEvent(e)); err != nil {
			log.Error("could not record a service event", "event", e.Name, "key", e.KeyID, "err", err)
		}
	})
	if err := aw.Append(&audit.Event{Time: time.Now(), Type: audit.TypeService, Name: "Start", Detail: "kmsd " + Version}); err != nil {
		aw.Close()
		return nil, fmt.Errorf("audit trail: %w", err)
	}
	log.Info("audit trail open", "dir", o.AuditDir, "sync", mode.String(), "flush_interval", o.AuditFlushInterval)
	return aw, nil
}

// auditSigner is the key that signs the trail's checkpoints: an Ed25519
// key whose seed kmsd derives from its own audit key (sealed under the
// root key like every key's material, so it never touches the disk
// unsealed, and it outlives root-key rotations), named by the trail's
// origin.
func auditSigner(svc *kms.Service) (*audit.Signer, error) {
	origin, err := checkpointsOf(svc).auditOrigin()
	if err != nil {
		return nil, fmt.Errorf("audit origin: %w", err)
	}
	seed, err := svc.DerivedKey("audit", "audit-sign-1")
	if err != nil {
		return nil, fmt.Errorf("audit signing key: %w", err)
	}
	defer clear(seed)
	return audit.NewSigner(origin, seed)
}

// auditExport is where each signed checkpoint is copied
// (--audit-checkpoint-export): "" nowhere, "journal" the systemd journal,
// else a directory.
func auditExport(to, origin string) (func([]byte) error, error) {
	switch to {
	case "":
		return nil, nil
	case "journal":
		return exportToJournal(origin)
	}
	return audit.ExportToDir(to, origin)
}

// auditDir is where the trail is: --audit-dir, or STATE_DIR/audit.
func auditDir(o Options) string {
	if o.AuditDir != "" {
		return o.AuditDir
	}
	return filepath.Join(o.StateDir, "audit")
}

// closeAudit records the stop and closes the trail.
func closeAudit(aw *audit.Writer, log *slog.Logger) {
	aw.Append(&audit.Event{Time: time.Now(), Type: audit.TypeService, Name: "Stop", Detail: "kmsd " + Version})
	if err := aw.Close(); err != nil {
		log.Error("closing the audit trail", "err", err)
		return
	}
	log.Info("audit trail closed")
}

// listen takes the socket systemd passed, or makes o.Socket; o.Socket is
// then the socket's path.
func listen(o *Options, log *slog.Logger) (net.Listener, error) {
	ln, err := activated()
	if err != nil {
		return nil, err
	}
	if ln != nil {
		o.Socket = ln.Addr().String()
		log.Info("using the socket systemd passed", "socket", o.Socket)
		return ln, nil
	}
	return socket.Listen(socket.ListenConfig{Path: o.Socket, Mode: o.SocketMode, Group: o.SocketGroup})
}

// serve runs srv on ln (and the FUSE view, if asked) until ctx is done or
// the listener fails, then unmounts and drains.
func serve(ctx context.Context, o Options, srv *Server, ln net.Listener, log *slog.Logger) error {
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	ticker := time.NewTicker(idleTrimAfter)
	defer ticker.Stop()
	go srv.trimWhenIdle(ctx.Done(), ticker.C, nil)
	diskTicker := time.NewTicker(time.Minute)
	defer diskTicker.Stop()
	go srv.watchDisk(ctx.Done(), diskTicker.C)
	if o.MetricsListen != "" {
		ml, err := listenMetrics(o.MetricsListen)
		if err != nil {
			srv.Shutdown(context.Background())
			<-served
			return fmt.Errorf("--metrics-listen: %w", err)
		}
		defer ml.Close()
		go func() {
			if err := srv.ServeMetrics(ml); err != nil {
				log.Error("serving metrics", "err", err)
			}
		}()
		log.Info("serving metrics", "listen", o.MetricsListen)
	}
	var aws *awsapi.Endpoint
	if o.AWSListen != "" {
		al, tcp, err := listenAWS(o.AWSListen)
		if err != nil {
			srv.Shutdown(context.Background())
			<-served
			return fmt.Errorf("--aws-listen: %w", err)
		}
		aws = srv.NewAWSEndpoint(tcp)
		go func() {
			if err := aws.Serve(al); err != nil {
				log.Error("serving the AWS endpoint", "err", err)
			}
		}()
		defer aws.Shutdown(context.Background())
		log.Info("serving the AWS KMS API", "listen", o.AWSListen)
	}
	var plugin *k8skms.Plugin
	if o.K8sKMSListen != "" {
		var kl net.Listener
		var err error
		plugin, kl, err = startK8sKMS(o, srv)
		if err != nil {
			stopAWS(aws, o.DrainTimeout, log)
			srv.Shutdown(context.Background())
			<-served
			return fmt.Errorf("--k8s-kms-listen: %w", err)
		}
		go func() {
			if err := plugin.Serve(kl); err != nil {
				log.Error("serving the Kubernetes KMS plugin", "err", err)
			}
		}()
		log.Info("serving the Kubernetes KMS v2 plugin", "listen", o.K8sKMSListen, "key", o.K8sKMSKey)
	}
	var mnt *fusefs.Mount
	if o.Mount != "" {
		var err error
		mnt, err = fusefs.New(o.Mount, srv.FUSE(), fusefs.Options{AllowOther: o.MountAllow, Logger: log, Debug: o.MountDebug})
		if err != nil {
			srv.Shutdown(context.Background())
			<-served
			return err
		}
		log.Info("mounted the FUSE view", "dir", o.Mount, "allow_other", o.MountAllow)
	}
	// usable_cpus is what the default workers follow: the CPUs kmsd may
	// run on (GOMAXPROCS, from its affinity mask and cgroup CPU quota).
	log.Info("serving", "socket", o.Socket, "state_dir", o.StateDir, "workers", srv.cfg.Workers,
		"usable_cpus", runtime.GOMAXPROCS(0), "ring_size", srv.cfg.RingSize, "max_ring_size", min(srv.cfg.RingSize, 1)*max(srv.cfg.RingSize, srv.cfg.MaxRingSize), "max_rings", srv.cfg.MaxRings, "keys", srv.cfg.Service.KeyCount())
	notify(log, "READY=1\nSTATUS=serving on "+o.Socket)
	if o.Ready != nil {
		o.Ready()
	}
	// The serving loop: it waits for the end, and pings systemd's
	// watchdog (if the unit has WatchdogSec=) while kmsd serves
	// (watchdog.go).
	var wdTick <-chan time.Time
	if every := watchdogInterval(log); every > 0 {
		t := time.NewTicker(every)
		defer t.Stop()
		wdTick = t.C
	}
	wd := &watchdog{s: srv, log: log}
	for ctx.Err() == nil {
		select {
		case err := <-served:
			unmount(mnt, log)
			stopAWS(aws, o.DrainTimeout, log) // before the workers stop: it queues work for them
			stopK8sKMS(plugin, o.DrainTimeout)
			srv.Shutdown(context.Background())
			return fmt.Errorf("accepting connections: %w", err)
		case now := <-wdTick:
			if wd.tick(now) {
				notify(log, "WATCHDOG=1")
			}
		case <-ctx.Done():
		}
	}
	notify(log, "STOPPING=1")
	unmount(mnt, log)
	stopAWS(aws, o.DrainTimeout, log)
	stopK8sKMS(plugin, o.DrainTimeout)
	return drain(srv, o.DrainTimeout, served, log)
}

// drain shuts srv down, giving in-flight requests timeout (15s if 0) to
// finish and be answered.
func drain(srv *Server, timeout time.Duration, served <-chan error, log *slog.Logger) error {
	if timeout <= 0 {
		timeout = 15 * time.Second
	}
	log.Info("shutting down: draining in-flight requests", "timeout", timeout)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	err := srv.Shutdown(ctx)
	<-served
	if errors.Is(err, context.DeadlineExceeded) {
		log.Warn("drain timed out; closed the remaining connections")
		return nil
	}
	return err
}

// unmount takes the FUSE view down, lazily if a descriptor is open, and
// waits a bounded time for its server.
func unmount(m *fusefs.Mount, log *slog.Logger) {
	if m == nil {
		return
	}
	if err := m.Close(time.Second); err != nil {
		log.Error("unmounting the FUSE view", "dir", m.Dir(), "err", err)
		return
	}
	log.Info("unmounted the FUSE view", "dir", m.Dir())
}

// ownRootKey is the root key file kmsd keeps (STATE_DIR/root-key), or ""
// when it was given one (a file or a systemd credential).
func ownRootKey(o Options) string {
	if statedir.RootKeyFile(o.RootKeyFile) != "" {
		return ""
	}
	return statedir.RootKeyPath(o.StateDir)
}

// stopAWS stops the AWS endpoint taking requests and waits (at most
// timeout, 15s if 0) for those in flight.
func stopAWS(a *awsapi.Endpoint, timeout time.Duration, log *slog.Logger) {
	if a == nil {
		return
	}
	if timeout <= 0 {
		timeout = 15 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := a.Shutdown(ctx); err != nil {
		log.Warn("the AWS endpoint's requests did not finish in time", "err", err)
	}
}

// listenAWS opens the AWS endpoint's listener: "unix:PATH" (a socket made
// as kmsd's own, mode 0666: the key policies decide, as on the main
// socket) or "tcp:HOST:PORT" (tcp is then true).
func listenAWS(spec string) (ln net.Listener, tcp bool, err error) {
	switch kind, addr, _ := strings.Cut(spec, ":"); kind {
	case "unix":
		ln, err = socket.Listen(socket.ListenConfig{Path: addr, Mode: 0o666})
		return ln, false, err
	case "tcp":
		ln, err = net.Listen("tcp", addr)
		return ln, true, err
	}
	return nil, false, fmt.Errorf("%q: want unix:PATH or tcp:HOST:PORT", spec)
}

// listenMetrics opens the metrics listener: "unix:PATH" (a socket made as
// kmsd's own, mode 0660) or "tcp:HOST:PORT".
func listenMetrics(spec string) (net.Listener, error) {
	switch kind, addr, _ := strings.Cut(spec, ":"); kind {
	case "unix":
		return socket.Listen(socket.ListenConfig{Path: addr, Mode: 0o660})
	case "tcp":
		return net.Listen("tcp", addr)
	}
	return nil, fmt.Errorf("%q: want unix:PATH or tcp:HOST:PORT", spec)
}
