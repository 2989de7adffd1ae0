// Command kmsd is the key management daemon. See README.md.
package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/alecthomas/kong"

	"kmsd/daemon"
	"kmsd/wire/ring"
)

// serveCmd is kmsd serving: the default command, so that `kmsd --flags`
// serves as it always has.
type serveCmd struct {
	StateDir              string        `help:"State directory (the store and, unless --root-key-file, the root key)." default:"kmsd-state" env:"STATE_DIRECTORY"`
	Socket                string        `help:"Unix socket to serve." default:"kmsd.sock" env:"KMSD_SOCKET"`
	SocketMode            string        `help:"Mode of the socket (octal)." default:"0660"`
	SocketGroup           string        `help:"Group of the socket (name or gid)."`
	RootKeyFile           string        `help:"32-byte root key file (default: $CREDENTIALS_DIRECTORY/root-key, else STATE_DIR/root-key, created on first start)."`
	Suite                 string        `help:"AEAD for new ciphertexts: auto, xaes or xchacha." default:"auto" enum:"auto,xaes,xchacha"`
	Workers               int           `help:"Crypto workers (default: the physical cores kmsd may use: within its CPU affinity and cgroup quota)."`
	QueueSize             int           `help:"Crypto request queue; when full, requests get ThrottlingException." default:"4096"`
	DrainTimeout          time.Duration `help:"How long SIGTERM waits for in-flight requests." default:"15s"`
	AdminGroup            string        `help:"Group (name or gid) given full access in the default policy of every new key, beside root and the key's creator."`
	AuditDir              string        `help:"Directory of the audit trail (default STATE_DIR/audit)."`
	AuditSync             string        `help:"When the audit trail is flushed to the disk: interval (at most --audit-flush-interval after a record is written), batch (every group of records, before their answers leave), always (every record on its own), or none (when the kernel will). Every record is written before its answer leaves." default:"interval" enum:"interval,batch,always,none"`
	AuditFlushInterval    time.Duration `help:"With --audit-sync interval: the longest a record waits before a flush starts." default:"5ms"`
	MaxConnections        int           `help:"Connections served at once (default: the open-file limit less 256, which kmsd raises to its hard limit at start)."`
	MaxConnectionsPerUID  int           `help:"Connections one uid may hold (root's are not bounded by it; default: an eighth of --max-connections, at least 16)."`
	HelloTimeout          time.Duration `help:"Close a connection that sends no Hello within this." default:"5s"`
	PollWindow            time.Duration `help:"How long a connection's reader polls for the next request before it sleeps (after a request of at most 64 items; after a larger batch it sleeps at once): a synchronous caller's round trip then costs microseconds of CPU instead of a thread's wake-up. 0 never polls." default:"50us"`
	RingSize              string        `help:"Each shared-memory ring a client may take for its connection's frames (docs/wire-protocol.md): requests and answers then pass without a system call while both sides are awake. 0 offers none." default:"256KiB"`
	MaxRingSize           string        `help:"The largest shared-memory ring a client may ask for (large batch frames pass a larger ring with fewer waits); a larger ring counts as several against --max-rings. Below --ring-size: --ring-size." default:"1MiB"`
	MaxRings              int           `help:"Connections on shared-memory rings at once, and (times --ring-size) the memory of all rings; a quarter of each per uid. Later connections keep their frames on the socket." default:"64"`
	AuditRetainSize       string        `help:"Remove the trail's oldest files once it passes this size (e.g. 10GiB); kmsd keeps where they ended, so verification still holds. Default: keep everything."`
	AuditRetainAge        time.Duration `help:"Remove the trail's files whose last record is older than this (e.g. 2160h). Default: keep everything."`
	AuditCheckpointExport string        `help:"Also copy each signed checkpoint of the audit trail here: a directory (on another mount or machine), or journal (the systemd journal). kmsctl audit verify --checkpoints then catches a trail rewritten after the copy, even one signed again with kmsd's own key." env:"KMSD_AUDIT_CHECKPOINT_EXPORT"`
	MetricsListen         string        `help:"Serve Prometheus metrics (GET /metrics) here: unix:PATH or tcp:127.0.0.1:PORT. Off by default." env:"KMSD_METRICS_LISTEN"`
	K8sKMSListen          string        `name:"k8s-kms-listen" help:"Serve the Kubernetes KMS v2 plugin (kube-apiserver's EncryptionConfiguration kms provider, apiVersion v2) on unix:PATH; a stale socket is replaced. Off by default (docs/kubernetes.md)." env:"KMSD_K8S_KMS_LISTEN"`
	K8sKMSKey             string        `name:"k8s-kms-key" help:"The key the plugin encrypts under: an id, ARN or alias." env:"KMSD_K8S_KMS_KEY"`
	K8sKMSSocketMode      string        `name:"k8s-kms-socket-mode" help:"The plugin socket's mode (octal)." default:"0600"`
	K8sKMSSocketGroup     string        `name:"k8s-kms-socket-group" help:"The plugin socket's group (name or gid; default: kmsd's)."`
	AWSListen             string        `name:"aws-listen" help:"Serve the AWS KMS API (JSON 1.1, as the AWS SDKs and the aws CLI speak it) here: unix:PATH (callers known by their kernel credentials) or tcp:HOST:PORT (requests signed with access keys kmsd issued). Off by default (docs/aws-endpoint.md)." env:"KMSD_AWS_LISTEN"`
	Region                string        `help:"The region in kmsd's ARNs (arn:aws:kms:REGION:ACCOUNT:key/ID)." default:"local"`
	AccountID             string        `name:"account-id" help:"The 12-digit account id in kmsd's ARNs." default:"000000000000"`
	NoAudit               bool          `help:"Run without an audit trail. For measurements only: nothing is recorded."`
	Mount                 string        `help:"Mount the FUSE view here: /keys/<alias>/encrypt and friends (docs/fuse.md). As root the kernel is asked directly; otherwise fusermount3 must be installed."`
	MountAllowOther       bool          `help:"Let users other than kmsd's own use the mount; what each may do is still the key policy's to say."`
	MountDebug            bool          `help:"Trace every FUSE request in the log."`
	LogLevel              string        `help:"debug, info, warn or error." default:"info" enum:"debug,info,warn,error"`
	LogFormat             string        `help:"text or json." default:"text" enum:"text,json"`
	CPUProfile            string        `help:"Write a CPU profile (pprof) to this file until kmsd stops: for diagnosing the hot path."`
	etcdFlags
	FleetHost         string        `help:"With --store etcd: this host's name in the audit trail and the fleet's status (default: the hostname)." env:"KMSD_FLEET_HOST"`
	FleetMaxStaleness time.Duration `help:"With --store etcd: how long crypto goes on from this host's copy of the keys while etcd cannot confirm it current; then it is refused until etcd is back." default:"5m" env:"KMSD_FLEET_MAX_STALENESS"`
	FleetLease        time.Duration `help:"With --store etcd: the lease of the election of the host that runs scheduled work (deletions, rotations, expiry): a crashed host hands the work on within it." default:"10s" env:"KMSD_FLEET_LEASE"`
}

// cli is kmsd's command line: serving (the default), and the offline
// commands that work on a state directory kmsd is not serving.
var cli struct {
	Version       kong.VersionFlag `help:"Print the version and exit."`
	Serve         serveCmd         `cmd:"" default:"withargs" help:"Serve (the default command)."`
	Restore       restoreCmd       `cmd:"" help:"Restore a backup (kmsctl backup) into an empty state directory, with the root key the backup was taken under."`
	ForgetRootKey forgetRootKeyCmd `cmd:"" help:"Remove a retired root key (STATE_DIR/root-key.old.N), saying which of the backups you name it opens: refused if it opens any (or is the store's own)."`
	RotateRootKey rotateRootKeyCmd `cmd:"" help:"Re-seal a state directory kmsd is not serving under a new root key you give (for a root key kmsd was given as a file or a systemd credential; kmsctl rotate-root-key does it online otherwise)."`
}

func main() {
	// kmsd --help is serving's help, its flags first, as kmsd is run to
	// serve; the other commands follow it.
	args, topHelp := os.Args[1:], false
	if len(args) == 1 && (args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
		args, topHelp = []string{"serve", "--help"}, true
	}
	var parser *kong.Kong
	parser = kong.Must(&cli, kong.Name("kmsd"), kong.Vars{"version": "kmsd " + daemon.Version},
		kong.Description("kmsd: a key management service for one host, with AWS KMS semantics."),
		kong.Exit(func(code int) {
			if topHelp {
				otherCommands(os.Stdout, parser)
			}
			os.Exit(code)
		}))
	kctx, err := parser.Parse(args)
	parser.FatalIfErrorf(err)
	if err := kctx.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "kmsd:", err)
		os.Exit(1)
	}
}

// otherCommands lists kmsd's commands other than serve, after serve's
// help.
func otherCommands(w io.Writer, parser *kong.Kong) {
	fmt.Fprintln(w, "\nOther commands (kmsd COMMAND --help for each):")
	for _, c := range parser.Model.Children {
		if c.Name != "serve" {
			fmt.Fprintf(w, "  %-17s %s\n", c.Name, c.Help)
		}
	}
}

// Run serves until SIGTERM or SIGINT.
func (c *serveCmd) Run() error {
	mode, err := strconv.ParseUint(c.SocketMode, 8, 32)
	if err != nil {
		fmt.Fprintln(os.Stderr, "kmsd: --socket-mode:", err)
		os.Exit(2)
	}
	k8sMode, err := strconv.ParseUint(c.K8sKMSSocketMode, 8, 32)
	if err != nil {
		fmt.Fprintln(os.Stderr, "kmsd: --k8s-kms-socket-mode:", err)
		os.Exit(2)
	}
	h := logHandler(os.Stderr, c.LogFormat, c.LogLevel)
	if c.CPUProfile != "" {
		f, err := os.Create(c.CPUProfile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "kmsd: --cpu-profile:", err)
			os.Exit(2)
		}
		pprof.StartCPUProfile(f)
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}
	var fleet *daemon.FleetOptions
	if c.fleet() {
		eps, err := c.endpoints()
		if err != nil {
			fmt.Fprintln(os.Stderr, "kmsd:", err)
			os.Exit(2)
		}
		fleet = &daemon.FleetOptions{Endpoints: eps, Prefix: c.EtcdPrefix, CACert: c.EtcdCACert, Cert: c.EtcdCert, Key: c.EtcdKey,
			Host: cmp.Or(c.FleetHost, daemon.FleetHostName()), MaxStaleness: c.FleetMaxStaleness, Lease: c.FleetLease}
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	return daemon.Run(ctx, daemon.Options{Fleet: fleet,
		StateDir: c.StateDir, Socket: c.Socket, SocketMode: os.FileMode(mode), SocketGroup: c.SocketGroup,
		RootKeyFile: c.RootKeyFile, Suite: c.Suite, Workers: c.Workers, QueueSize: c.QueueSize,
		DrainTimeout: c.DrainTimeout, AdminGroup: c.AdminGroup, Logger: slog.New(h),
		AuditDir: c.AuditDir, AuditSync: c.AuditSync, AuditFlushInterval: c.AuditFlushInterval, NoAudit: c.NoAudit,
		AuditRetainBytes: retainBytes(c.AuditRetainSize), AuditRetainAge: c.AuditRetainAge, AuditCheckpointExport: c.AuditCheckpointExport,
		PollWindow: c.PollWindow, RingSize: ringSize("--ring-size", c.RingSize), MaxRingSize: ringSize("--max-ring-size", c.MaxRingSize), MaxRings: c.MaxRings, MaxConns: c.MaxConnections, MaxConnsPerUID: c.MaxConnectionsPerUID,
		HelloTimeout: c.HelloTimeout, MetricsListen: c.MetricsListen, AWSListen: c.AWSListen, Region: c.Region,
		K8sKMSListen: c.K8sKMSListen, K8sKMSKey: c.K8sKMSKey, K8sKMSSocketMode: os.FileMode(k8sMode), K8sKMSSocketGroup: c.K8sKMSSocketGroup, AccountID: c.AccountID,
		Mount: c.Mount, MountAllow: c.MountAllowOther, MountDebug: c.MountDebug,
	})
}

// retainBytes parses --audit-retain-size: a number of bytes with an
// optional unit (KiB, MiB, GiB, TiB); "" keeps everything.
func retainBytes(s string) int64 {
	if s == "" {
		return 0
	}
	n, ok := parseSize(s)
	if !ok || n <= 0 {
		fmt.Fprintf(os.Stderr, "kmsd: --audit-retain-size %q: want a size such as 10GiB\n", s)
		os.Exit(2)
	}
	return n
}

// ringSize parses --ring-size or --max-ring-size (flag): 0 (no rings; for
// --max-ring-size, none larger than --ring-size), or a power of two from
// 4KiB to 16MiB.
func ringSize(flag, s string) int {
	n, ok := parseSize(s)
	if !ok || n != 0 && (n < ring.MinSize || n > ring.MaxSize || n&(n-1) != 0) {
		fmt.Fprintf(os.Stderr, "kmsd: %s %q: want 0 or a power of two from 4KiB to 16MiB\n", flag, s)
		os.Exit(2)
	}
	return int(n)
}

// parseSize parses a number of bytes with an optional unit (KiB, MiB,
// GiB, TiB).
func parseSize(s string) (int64, bool) {
	units := []struct {
		suffix string
		mult   int64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"", 1}}
	for _, u := range units {
		if num, ok := strings.CutSuffix(s, u.suffix); ok {
			n, err := strconv.ParseInt(num, 10, 64)
			if err != nil || n < 0 || n > 1<<40 {
				return 0, false
			}
			return n * u.mult, true
		}
	}
	return 0, false
}
