// Package etcdstore is a [keystore.Store] in etcd: the store of a fleet
// of kmsd hosts that share their keys (docs/fleet.md).
//
// Every record lives under one prefix (default "/kmsd/"), its key the
// keystore's key after it, its value the keystore's bytes. A record's
// revision is etcd's ModRevision; a batch is one etcd transaction whose
// comparisons are the batch's conditions (ModRevision equal, or
// CreateRevision 0 for "absent"), so two hosts that change one record
// from the same view never both succeed. Scans read every page at the
// revision of the first, one consistent view however large the store;
// Watch is etcd's watch from a revision, which is ordered and has no
// gaps, and says when the revision asked for was compacted.
//
// The package also holds the fleet's election ([Store.Campaign]): one
// host at a time runs the scheduled work, and a host that stops keeping
// its lease alive hands it on when the lease ends.
package etcdstore

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"go.etcd.io/etcd/client/pkg/v3/transport"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"kmsd/keystore"
)

// Options configures Open.
type Options struct {
	// Endpoints are the etcd members' client URLs.
	Endpoints []string
	// Prefix is where the fleet's records live; "" is DefaultPrefix.
	Prefix string
	// CACert, Cert and Key are PEM files for TLS: the CA that signed the
	// members' certificates, and this host's client certificate and key.
	// With none set the connection is plain (for a loopback etcd).
	CACert, Cert, Key string
	// DialTimeout bounds Open's first contact; 0 is 5 s.
	DialTimeout time.Duration
	// RequestTimeout bounds each read and write; 0 is 3 s.
	RequestTimeout time.Duration
	// Logger; nil discards.
	Logger *slog.Logger
}

// DefaultPrefix is where a fleet's records live unless told otherwise.
const DefaultPrefix = "/kmsd/"

// pageSize is how many records one range request of a scan reads.
const pageSize = 500

// maxTxnOps is etcd's default --max-txn-ops: the most changes and
// conditions one transaction may hold.
const maxTxnOps = 128

// maxRequestBytes is under etcd's default --max-request-bytes (1.5 MiB).
const maxRequestBytes = 1 << 20

// Store is a keystore.Store in etcd.
type Store struct {
	cli     *clientv3.Client
	prefix  string
	timeout time.Duration
	log     *slog.Logger
	closed  atomic.Bool
}

var _ keystore.Store = (*Store)(nil)

// Open connects to etcd and reads once, so that an unreachable cluster
// is an error here, not at the first request.
func Open(o Options) (*Store, error) {
	if len(o.Endpoints) == 0 {
		return nil, errors.New("etcd: no endpoints")
	}
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	if !strings.HasSuffix(o.Prefix, "/") {
		o.Prefix += "/"
	}
	if o.DialTimeout <= 0 {
		o.DialTimeout = 5 * time.Second
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = 3 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	var tc *tls.Config
	if o.CACert != "" || o.Cert != "" || o.Key != "" {
		info := transport.TLSInfo{CertFile: o.Cert, KeyFile: o.Key, TrustedCAFile: o.CACert}
		var err error
		if tc, err = info.ClientConfig(); err != nil {
			return nil, fmt.Errorf("etcd TLS: %w", err)
		}
	}
	cli, err := clientv3.New(clientv3.Config{
		Endpoints: o.Endpoints, DialTimeout: o.DialTimeout, TLS: tc,
		Logger: zap.NewNop(), AutoSyncInterval: 0, RejectOldCluster: true,
		DialKeepAliveTime: 2 * time.Second, DialKeepAliveTimeout: 2 * time.Second,
	})
	if err != nil {
		return nil, fmt.Errorf("etcd %s: %w", strings.Join(o.Endpoints, ","), err)
	}
	s := &Store{cli: cli, prefix: o.Prefix, timeout: o.RequestTimeout, log: o.Logger}
	ctx, cancel := context.WithTimeout(context.Background(), o.DialTimeout)
	defer cancel()
	if _, err := cli.Get(ctx, o.Prefix, clientv3.WithCountOnly()); err != nil {
		cli.Close()
		return nil, fmt.Errorf("etcd %s: %w", strings.Join(o.Endpoints, ","), unavailable(err))
	}
	return s, nil
}

// Prefix is where the store's records live.
func (s *Store) Prefix() string { return s.prefix }

// Client is the etcd client, for what a fleet does beyond the store.
func (s *Store) Client() *clientv3.Client { return s.cli }

func (s *Store) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), s.timeout)
}

// Get returns key's value, read linearizably (from the quorum).
func (s *Store) Get(key []byte) ([]byte, error) {
	if s.closed.Load() {
		return nil, keystore.ErrClosed
	}
	ctx, cancel := s.ctx()
	defer cancel()
	resp, err := s.cli.Get(ctx, s.prefix+string(key))
	if err != nil {
		return nil, unavailable(err)
	}
	if len(resp.Kvs) == 0 {
		return nil, keystore.ErrNotFound
	}
	return resp.Kvs[0].Value, nil
}

// Scan walks the records with prefix in key order, from one revision.
func (s *Store) Scan(prefix []byte, fn func(key, value []byte) error) error {
	_, err := s.ScanRev(prefix, func(k, v []byte, _ int64) error { return fn(k, v) })
	return err
}

// ScanRev reads the records with prefix a page at a time, every page at
// the revision of the first.
func (s *Store) ScanRev(prefix []byte, fn func(key, value []byte, rev int64) error) (int64, error) {
	if s.closed.Load() {
		return 0, keystore.ErrClosed
	}
	from := s.prefix + string(prefix)
	end := clientv3.GetPrefixRangeEnd(from)
	var rev int64
	for {
		ctx, cancel := s.ctx()
		opts := []clientv3.OpOption{clientv3.WithRange(end), clientv3.WithLimit(pageSize),
			clientv3.WithSort(clientv3.SortByKey, clientv3.SortAscend)}
		if rev != 0 {
			opts = append(opts, clientv3.WithRev(rev))
		}
		resp, err := s.cli.Get(ctx, from, opts...)
		cancel()
		if err != nil {
			return 0, unavailable(err)
		}
		if rev == 0 {
			rev = resp.Header.Revision
		}
		for _, kv := range resp.Kvs {
			if err := fn(kv.Key[len(s.prefix):], kv.Value, kv.ModRevision); err != nil {
				return 0, err
			}
		}
		if !resp.More || len(resp.Kvs) == 0 {
			return rev, nil
		}
		from = string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
	}
}

// MaxBatch is what etcd takes in one transaction at its defaults
// (keystore.BatchLimiter).
func (s *Store) MaxBatch() (count int, bytes int64) { return maxTxnOps, maxRequestBytes }

// Write commits the batch as one transaction guarded by its conditions.
// A key changed twice in a batch is written once, as its last change
// says (etcd refuses a transaction that names a key twice).
func (s *Store) Write(b *keystore.Batch) error {
	changes, err := b.Changes()
	if err != nil {
		return err
	}
	if s.closed.Load() {
		return keystore.ErrClosed
	}
	last := make(map[string]int, len(changes))
	for i, c := range changes {
		last[string(c.Key)] = i
	}
	ops := make([]clientv3.Op, 0, len(last))
	for i, c := range changes {
		if last[string(c.Key)] != i {
			continue
		}
		k := s.prefix + string(c.Key)
		if c.Delete {
			ops = append(ops, clientv3.OpDelete(k))
		} else {
			ops = append(ops, clientv3.OpPut(k, string(c.Value)))
		}
	}
	conds := b.Conditions()
	cmps := make([]clientv3.Cmp, 0, len(conds))
	for _, c := range conds {
		k := s.prefix + string(c.Key)
		if c.Revision == 0 {
			cmps = append(cmps, clientv3.Compare(clientv3.CreateRevision(k), "=", 0))
		} else {
			cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(k), "=", c.Revision))
		}
	}
	if len(ops) > maxTxnOps || len(cmps) > maxTxnOps {
		return fmt.Errorf("a batch of %d changes and %d conditions is more than etcd takes in one transaction (%d)", len(ops), len(cmps), maxTxnOps)
	}
	ctx, cancel := s.ctx()
	defer cancel()
	resp, err := s.cli.Txn(ctx).If(cmps...).Then(ops...).Commit()
	if err != nil {
		return unavailable(err)
	}
	if !resp.Succeeded {
		return fmt.Errorf("%w (etcd at revision %d)", keystore.ErrConflict, resp.Header.Revision)
	}
	b.Committed(resp.Header.Revision)
	return nil
}

// Watch follows etcd's watch of the prefix from revision after+1. The
// events of one transaction share a revision and come as one Event. A
// progress notification from etcd comes as an Event without changes:
// the store is at its revision, and nothing under the prefix changed.
func (s *Store) Watch(ctx context.Context, after int64, fn func(keystore.Event) error) error {
	if s.closed.Load() {
		return keystore.ErrClosed
	}
	wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	defer cancel()
	wch := s.cli.Watch(wctx, s.prefix, clientv3.WithPrefix(), clientv3.WithRev(after+1), clientv3.WithProgressNotify())
	for resp := range wch {
		if resp.CompactRevision != 0 {
			return fmt.Errorf("%w: etcd compacted its history to revision %d", keystore.ErrCompacted, resp.CompactRevision)
		}
		if err := resp.Err(); err != nil {
			return unavailable(err)
		}
		if resp.IsProgressNotify() {
			if err := fn(keystore.Event{Revision: resp.Header.Revision}); err != nil {
				return err
			}
			continue
		}
		var ev keystore.Event
		for _, e := range resp.Events {
			if ev.Revision != 0 && e.Kv.ModRevision != ev.Revision {
				if err := fn(ev); err != nil {
					return err
				}
				ev = keystore.Event{}
			}
			ev.Revision = e.Kv.ModRevision
			ev.Changes = append(ev.Changes, keystore.Change{Key: e.Kv.Key[len(s.prefix):], Value: e.Kv.Value, Delete: e.Type == clientv3.EventTypeDelete})
		}
		if ev.Revision != 0 {
			if err := fn(ev); err != nil {
				return err
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.closed.Load() {
		return keystore.ErrClosed
	}
	return fmt.Errorf("%w: the watch ended", keystore.ErrUnavailable)
}

// Revision is the cluster's revision now, read from the quorum: what a
// host's cache must have reached to be current.
func (s *Store) Revision(ctx context.Context) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	resp, err := s.cli.Get(ctx, s.prefix+"m", clientv3.WithCountOnly())
	if err != nil {
		return 0, unavailable(err)
	}
	return resp.Header.Revision, nil
}

// Close closes the client; calls after it fail.
func (s *Store) Close() error {
	if !s.closed.CompareAndSwap(false, true) {
		return nil
	}
	return s.cli.Close()
}

// unavailable wraps an etcd failure in keystore.ErrUnavailable, with its
// reason.
func unavailable(err error) error {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%w: etcd did not answer in time (no quorum, or unreachable)", keystore.ErrUnavailable)
	case errors.Is(err, rpctypes.ErrNoLeader), errors.Is(err, rpctypes.ErrGRPCNoLeader):
		return fmt.Errorf("%w: etcd has no leader (no quorum)", keystore.ErrUnavailable)
	case errors.Is(err, context.Canceled):
		return err
	}
	return fmt.Errorf("%w: %v", keystore.ErrUnavailable, err)
}
