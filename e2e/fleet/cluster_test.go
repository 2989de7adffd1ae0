package fleet

import (
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.etcd.io/etcd/server/v3/embed"

	"kmsd/internal/testkit"
)

// member is one etcd member embedded in the test process.
type member struct {
	name, dir      string
	client, peer   string // URLs
	initialCluster string
	mu             sync.Mutex
	etcd           *embed.Etcd
}

// cluster is a real etcd cluster of n members on loopback ports.
type cluster struct {
	t       testing.TB
	members []*member
}

// freePorts asks the kernel for n distinct loopback ports that nothing
// listens on: every listener stays open until all are chosen, so the
// kernel cannot hand one port out twice.
func freePorts(t testing.TB, n int) []int {
	t.Helper()
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports
}

// startCluster starts n members and waits until they have a leader.
func startCluster(t testing.TB, n int) *cluster {
	t.Helper()
	c := &cluster{t: t}
	dir := testkit.ShortDir(t)
	var peers []string
	ports := freePorts(t, 2*n)
	for i := range n {
		m := &member{name: fmt.Sprintf("m%d", i), dir: filepath.Join(dir, fmt.Sprintf("m%d", i)),
			client: fmt.Sprintf("http://127.0.0.1:%d", ports[2*i]), peer: fmt.Sprintf("http://127.0.0.1:%d", ports[2*i+1])}
		peers = append(peers, m.name+"="+m.peer)
		c.members = append(c.members, m)
	}
	for _, m := range c.members {
		m.initialCluster = strings.Join(peers, ",")
	}
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for _, m := range c.members {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- m.start(true)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		for _, m := range c.members {
			m.stop()
		}
	})
	return c
}

// start runs the member (new: as a member of a new cluster; else from
// its data directory) and waits until it serves.
func (m *member) start(isNew bool) error {
	cfg := embed.NewConfig()
	cfg.Name = m.name
	cfg.Dir = m.dir
	cfg.LogLevel = "error"
	cfg.Logger = "zap"
	cfg.LogOutputs = []string{filepath.Join(filepath.Dir(m.dir), m.name+".log")}
	cu, _ := url.Parse(m.client)
	pu, _ := url.Parse(m.peer)
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{*cu}, []url.URL{*cu}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{*pu}, []url.URL{*pu}
	cfg.InitialCluster = m.initialCluster
	cfg.InitialClusterToken = "kmsd-fleet-test"
	cfg.ClusterState = embed.ClusterStateFlagExisting
	if isNew {
		cfg.ClusterState = embed.ClusterStateFlagNew
	}
	// Elections in tens of milliseconds: quorum comes and goes quickly.
	cfg.TickMs, cfg.ElectionMs = 50, 500
	cfg.WatchProgressNotifyInterval = 500 * time.Millisecond
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return fmt.Errorf("etcd member %s: %w", m.name, err)
	}
	select {
	case <-e.Server.ReadyNotify():
	case <-time.After(time.Minute):
		e.Close()
		return fmt.Errorf("etcd member %s not ready within a minute", m.name)
	}
	m.mu.Lock()
	m.etcd = e
	m.mu.Unlock()
	return nil
}

// stop stops the member (its data stays).
func (m *member) stop() {
	m.mu.Lock()
	e := m.etcd
	m.etcd = nil
	m.mu.Unlock()
	if e != nil {
		e.Close()
	}
}

// endpoints are the members' client URLs, comma-separated.
func (c *cluster) endpoints() string {
	var out []string
	for _, m := range c.members {
		out = append(out, m.client)
	}
	return strings.Join(out, ",")
}

// restart starts a stopped member again from its data.
func (c *cluster) restart(i int) {
	c.t.Helper()
	if err := c.members[i].start(false); err != nil {
		c.t.Fatal(err)
	}
}
