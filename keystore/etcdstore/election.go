package etcdstore

import (
	"context"
	"strings"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
)

// Leadership is one host's part in the fleet's election for a job: it
// campaigns until it leads, leads while its lease lives, and campaigns
// again when the lease is lost.
type Leadership struct {
	leading atomic.Bool
	cancel  context.CancelFunc
	done    chan struct{}
}

// Leading reports whether this host leads now.
func (l *Leadership) Leading() bool { return l.leading.Load() }

// Stop resigns (if leading) and stops campaigning.
func (l *Leadership) Stop() {
	l.cancel()
	<-l.done
}

// Campaign makes this host, named host, a candidate for job (under
// PREFIX-election/JOB, beside the records): etcd's concurrency election over a lease of ttl
// (at least a second), which a crashed or cut-off host's keeps alive no
// more, so that another takes the job over within ttl. changed, if not
// nil, is called on every change of leadership.
func (s *Store) Campaign(job, host string, ttl time.Duration, changed func(leading bool)) *Leadership {
	ctx, cancel := context.WithCancel(context.Background())
	l := &Leadership{cancel: cancel, done: make(chan struct{})}
	set := func(v bool) {
		if l.leading.Swap(v) != v && changed != nil {
			changed(v)
		}
	}
	go func() {
		defer close(l.done)
		secs := max(1, int(ttl.Round(time.Second)/time.Second))
		for ctx.Err() == nil {
			sess, err := concurrency.NewSession(s.cli, concurrency.WithTTL(secs), concurrency.WithContext(ctx))
			if err != nil {
				sleep(ctx, time.Second)
				continue
			}
			e := concurrency.NewElection(sess, s.electionPrefix(job))
			if err := e.Campaign(ctx, host); err != nil {
				sess.Close()
				sleep(ctx, time.Second)
				continue
			}
			set(true)
			select {
			case <-ctx.Done():
				set(false)
				rctx, rcancel := context.WithTimeout(context.Background(), s.timeout)
				e.Resign(rctx)
				rcancel()
				sess.Close()
				return
			case <-sess.Done(): // the lease could not be kept alive
				set(false)
			}
		}
	}()
	return l
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// Candidates are the hosts campaigning for job now: every running host
// of the fleet.
func (s *Store) Candidates(job string) ([]string, error) {
	ctx, cancel := s.ctx()
	defer cancel()
	resp, err := s.cli.Get(ctx, s.electionPrefix(job)+"/", clientv3.WithPrefix())
	if err != nil {
		return nil, unavailable(err)
	}
	var out []string
	for _, kv := range resp.Kvs {
		out = append(out, string(kv.Value))
	}
	return out, nil
}

// electionPrefix is where job's election lives: beside the records.
func (s *Store) electionPrefix(job string) string {
	return strings.TrimSuffix(s.prefix, "/") + "-election/" + job
}
