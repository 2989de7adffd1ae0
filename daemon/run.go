package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"

	"kmsd/daemon/audit"
	"kmsd/daemon/kms"
	"kmsd/fusefs"
	"kmsd/keystore"
)

// Version is kmsd's version, set at build time with
// -ldflags "-X kmsd/daemon.Version=...".
var Version = "0.1.0-dev"

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
	AuditSync    string // always, batch (default) or none
	NoAudit      bool   // no audit trail at all: for measurements only
	Mount        string // if set, where the FUSE view is mounted
	MountAllow   bool   // --mount-allow-other: other users may use the mount
	MountDebug   bool   // trace every FUSE request
	Logger       *slog.Logger
	// Ready, if set, is called once the socket accepts connections.
	Ready func()
}

// Run runs kmsd until ctx is cancelled (SIGTERM, SIGINT), then drains
// in-flight requests and closes the store. Cancellation is not an error.
func Run(ctx context.Context, o Options) error {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	// No core dumps and no ptrace by other users: memory holds key material.
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		log.Warn("could not turn off core dumps", "err", err)
	}
	cpu := keystore.DetectCPU()
	suite, err := keystore.ParseAlg(o.Suite)
	if err != nil {
		return err
	}
	log.Info("starting kmsd", "version", Version, "cpu", cpu.Brand, "aesni", cpu.AESNI, "pclmulqdq", cpu.PCLMULQDQ,
		"avx2", cpu.AVX2, "vaes", cpu.VAES, "physical_cores", cpu.PhysicalCores, "suite", suite.String())
	if suite == keystore.AlgXAES256GCM && !cpu.HardwareAES() {
		log.Warn("XAES-256-GCM forced on a CPU without hardware AES: it is slow and not constant-time here")
	}
	rootKey := o.RootKeyFile
	if rootKey == "" {
		if dir := os.Getenv("CREDENTIALS_DIRECTORY"); dir != "" {
			if p := filepath.Join(dir, "root-key"); fileExists(p) {
				rootKey = p
			}
		}
	}
	if err := os.MkdirAll(o.StateDir, 0o700); err != nil {
		return err
	}
	if o.AuditDir == "" {
		o.AuditDir = filepath.Join(o.StateDir, "audit")
	}
	svc, err := kms.Open(kms.Config{StateDir: o.StateDir, RootKeyFile: rootKey, Suite: suite, Logger: log, AdminGroup: o.AdminGroup})
	if err != nil {
		return err
	}
	defer func() {
		if err := svc.Close(); err != nil {
			log.Error("closing the store", "err", err)
		} else {
			log.Info("store closed")
		}
	}()
	aw, err := openAudit(o, svc, log)
	if err != nil {
		return err
	}
	if aw != nil {
		defer func() {
			aw.Append(&audit.Event{Time: time.Now(), Type: audit.TypeService, Name: "Stop", Detail: "kmsd " + Version})
			aw.Close()
			log.Info("audit trail closed")
		}()
	}
	ln, err := activated()
	if err != nil {
		return err
	}
	if ln != nil {
		o.Socket = ln.Addr().String()
		log.Info("using the socket systemd passed", "socket", o.Socket)
	} else if ln, err = Listen(ListenConfig{Path: o.Socket, Mode: o.SocketMode, Group: o.SocketGroup}); err != nil {
		return err
	}
	srv := NewServer(Config{Service: svc, Audit: aw, AuditDir: o.AuditDir, Logger: log, Version: Version, CPU: cpu,
		Workers: o.Workers, QueueSize: o.QueueSize})
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	go srv.trimWhenIdle(ctx.Done(), idleTrimAfter, nil)
	var mnt *fusefs.Mount
	if o.Mount != "" {
		mnt, err = fusefs.New(o.Mount, srv.FUSE(), fusefs.Options{AllowOther: o.MountAllow, Logger: log, Debug: o.MountDebug})
		if err != nil {
			srv.Shutdown(context.Background())
			<-served
			return err
		}
		log.Info("mounted the FUSE view", "dir", o.Mount, "allow_other", o.MountAllow)
	}
	log.Info("serving", "socket", o.Socket, "state_dir", o.StateDir, "workers", srv.cfg.Workers, "keys", svc.KeyCount())
	notify(log, "READY=1\nSTATUS=serving on "+o.Socket)
	if o.Ready != nil {
		o.Ready()
	}
	select {
	case err := <-served:
		unmount(mnt, log)
		srv.Shutdown(context.Background())
		return fmt.Errorf("accepting connections: %w", err)
	case <-ctx.Done():
	}
	notify(log, "STOPPING=1")
	unmount(mnt, log)
	drain := o.DrainTimeout
	if drain <= 0 {
		drain = 15 * time.Second
	}
	log.Info("shutting down: draining in-flight requests", "timeout", drain)
	sctx, cancel := context.WithTimeout(context.Background(), drain)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	} else if err != nil {
		log.Warn("drain timed out; closed the remaining connections")
	}
	<-served
	return nil
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

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
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
	aw, err := audit.Open(audit.Config{Dir: o.AuditDir, Sync: mode, MACKey: key, Store: svc.CheckpointStore(), Logger: log})
	clear(key)
	if err != nil {
		return nil, err
	}
	svc.OnServiceEvent(func(ev *audit.Event) {
		if err := aw.Append(ev); err != nil {
			log.Error("could not record a service event", "event", ev.Name, "key", ev.KeyID, "err", err)
		}
	})
	if err := aw.Append(&audit.Event{Time: time.Now(), Type: audit.TypeService, Name: "Start", Detail: "kmsd " + Version}); err != nil {
		aw.Close()
		return nil, fmt.Errorf("audit trail: %w", err)
	}
	log.Info("audit trail open", "dir", o.AuditDir, "sync", o.AuditSync)
	return aw, nil
}
