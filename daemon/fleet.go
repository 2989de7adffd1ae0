package daemon

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"kmsd/daemon/kms"
	"kmsd/keystore"
	"kmsd/keystore/etcdstore"
	"kmsd/keystore/statedir"
)

// FleetOptions make kmsd one host of a fleet that keeps its keys in
// etcd (docs/fleet.md).
type FleetOptions struct {
	Endpoints         []string // the etcd members' client URLs
	Prefix            string   // default etcdstore.DefaultPrefix
	CACert, Cert, Key string   // TLS to etcd
	Host              string   // this host's name; default the hostname
	MaxStaleness      time.Duration
	Lease             time.Duration // the job election's lease; default 10 s
	RequestTimeout    time.Duration // each etcd request; default 3 s
}

// SchedulerJob names the election of the host that runs the fleet's
// scheduled work; every running host is a candidate.
const SchedulerJob = "scheduler"

// DefaultFleetLease is how long a crashed job host keeps the scheduled
// work from the others.
const DefaultFleetLease = 10 * time.Second

// openFleet connects to the fleet's etcd and finds this host's root key,
// refusing to go on (before anything is served or written) if it is not
// the one the fleet's keys are sealed under. A first host of a new fleet
// whose root key does not exist yet makes one, as a first start does.
func openFleet(o Options, log *slog.Logger) (*etcdstore.Store, *keystore.RootKey, error) {
	f := o.Fleet
	st, err := etcdstore.Open(etcdstore.Options{Endpoints: f.Endpoints, Prefix: f.Prefix, CACert: f.CACert, Cert: f.Cert, Key: f.Key,
		RequestTimeout: f.RequestTimeout, Logger: log})
	if err != nil {
		return nil, nil, err
	}
	err = etcdstore.CheckRestored(st)
	var rk *keystore.RootKey
	if err == nil {
		rk, err = fleetRootKey(o, st, log)
	}
	if err == nil {
		err = keystore.Init(st, rk)
		if errors.Is(err, keystore.ErrWrongRootKey) {
			err = fmt.Errorf("this host's root key is not the one the fleet's keys under %s are sealed under: give it the fleet's root key (docs/fleet.md): %w", st.Prefix(), err)
		}
	}
	if err == nil {
		// A root key rotation (kmsd rotate-root-key --store etcd, the
		// fleet stopped) that a crash cut short.
		_, err = keystore.FinishRotation(st, rk)
	}
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return st, rk, nil
}

func fleetRootKey(o Options, st keystore.Store, log *slog.Logger) (*keystore.RootKey, error) {
	path := statedir.RootKeyFile(o.RootKeyFile)
	if path == "" {
		path = statedir.RootKeyPath(o.StateDir)
	}
	rk, err := keystore.LoadRootKey(path)
	if !errors.Is(err, os.ErrNotExist) {
		return rk, err
	}
	if init, ierr := keystore.Initialized(st); ierr != nil || init {
		if ierr != nil {
			return nil, ierr
		}
		return nil, fmt.Errorf("the fleet's store already holds keys and this host has no root key at %s: copy the fleet's root key there, or name it with --root-key-file", path)
	}
	if err := os.MkdirAll(o.StateDir, 0o700); err != nil {
		return nil, err
	}
	if err := keystore.CreateRootKey(path); err != nil {
		return nil, err
	}
	log.Warn("created the root key of a new fleet; give every other host of the fleet a copy, and back it up", "path", path)
	return keystore.LoadRootKey(path)
}

// fleetConfig is the key service's side of the fleet: this host's name,
// its bound on staleness, and the election of the host that runs the
// scheduled work.
func fleetConfig(o Options, st *etcdstore.Store, log *slog.Logger) (*kms.Fleet, *etcdstore.Leadership) {
	f := o.Fleet
	lease := f.Lease
	if lease <= 0 {
		lease = DefaultFleetLease
	}
	lead := st.Campaign(SchedulerJob, f.Host, lease, func(leading bool) {
		if leading {
			log.Info("this host runs the fleet's scheduled work (deletions, rotations, expiry)", "host", f.Host)
		} else {
			log.Info("this host no longer runs the fleet's scheduled work", "host", f.Host)
		}
	})
	return &kms.Fleet{Host: f.Host, MaxStaleness: f.MaxStaleness, Leading: lead.Leading}, lead
}

// FleetHostName is the name a fleet host goes by unless told: the
// kernel's hostname.
func FleetHostName() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "localhost"
	}
	return h
}

// ParseEndpoints splits a comma-separated list of etcd client URLs.
func ParseEndpoints(s string) []string {
	var out []string
	for _, e := range strings.Split(s, ",") {
		if e = strings.TrimSpace(e); e != "" {
			out = append(out, e)
		}
	}
	return out
}

// testHooks reads the fleet's hooks for the end-to-end tests:
// KMSD_TEST_TICK (how often scheduled work runs) and
// KMSD_TEST_CLOCK_OFFSET (added to the clock scheduled work compares
// dates with, so that a deletion falls due without waiting a week).
// Unset, they change nothing.
func testHooks() (tick, offset time.Duration) {
	tick, _ = time.ParseDuration(os.Getenv("KMSD_TEST_TICK"))
	offset, _ = time.ParseDuration(os.Getenv("KMSD_TEST_CLOCK_OFFSET"))
	return tick, offset
}
