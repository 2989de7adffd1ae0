package fleet

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"kmsd/internal/testkit"
	"kmsd/keystore"
	"kmsd/keystore/etcdstore"
	"kmsd/keystore/storetest"
)

func TestMain(m *testing.M) { os.Exit(testkit.Main(m)) }

// prefixes numbers the prefixes of the stores the tests open.
var prefixes atomic.Int64

// openStore opens a store under a prefix no other test uses.
func openStore(t *testing.T, c *cluster) *etcdstore.Store {
	t.Helper()
	st, err := etcdstore.Open(etcdstore.Options{Endpoints: strings.Split(c.endpoints(), ","),
		Prefix: fmt.Sprintf("/test-%d/", prefixes.Add(1))})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// The store contract that badgerstore and memstore keep, kept by etcd.
func TestEtcdStoreConformance(t *testing.T) {
	c := startCluster(t, 1)
	var last string
	storetest.Run(t, func(t *testing.T) keystore.Store {
		st := openStore(t, c)
		last = st.Prefix()
		return st
	}, func(t *testing.T) keystore.Store {
		st, err := etcdstore.Open(etcdstore.Options{Endpoints: strings.Split(c.endpoints(), ","), Prefix: last})
		if err != nil {
			t.Fatal(err)
		}
		return st
	})
}

// A scan larger than a page reads every page at one revision: a write
// between pages is not in it.
func TestEtcdScanIsOneView(t *testing.T) {
	c := startCluster(t, 1)
	st := openStore(t, c)
	defer st.Close()
	for i := 0; i < 1200; i += 100 {
		var b keystore.Batch
		for j := i; j < i+100; j++ {
			b.Put(fmt.Appendf(nil, "r%05d", j), []byte("v"))
		}
		if err := st.Write(&b); err != nil {
			t.Fatal(err)
		}
	}
	n := 0
	view, err := st.ScanRev([]byte("r"), func(k, _ []byte, _ int64) error {
		if n == 600 { // between the second and the third page
			var b keystore.Batch
			b.Put([]byte("r99999"), []byte("late"))
			b.Put([]byte("r00900"), []byte("changed"))
			if err := st.Write(&b); err != nil {
				return err
			}
		}
		n++
		return nil
	})
	if err != nil || n != 1200 {
		t.Fatalf("scan: %d records, %v; want 1200", n, err)
	}
	if v, _ := st.Get([]byte("r00900")); string(v) != "changed" {
		t.Fatalf("the write between pages was lost: %q", v)
	}
	if view <= 0 {
		t.Fatalf("view revision %d", view)
	}
}

// A watch from a compacted revision says so (the caller reloads), and a
// batch past etcd's limits is refused before it is sent.
func TestEtcdWatchCompacted(t *testing.T) {
	c := startCluster(t, 1)
	st := openStore(t, c)
	defer st.Close()
	var revs []int64
	for i := range 5 {
		var b keystore.Batch
		b.Put([]byte("k"), []byte{byte(i)})
		if err := st.Write(&b); err != nil {
			t.Fatal(err)
		}
		revs = append(revs, b.Revision())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := st.Client().Compact(ctx, revs[3]); err != nil {
		t.Fatal(err)
	}
	err := st.Watch(ctx, revs[0], func(keystore.Event) error { return nil })
	if !errors.Is(err, keystore.ErrCompacted) {
		t.Fatalf("watch from a compacted revision: %v", err)
	}
	var big keystore.Batch
	for i := range 200 {
		big.Put(fmt.Appendf(nil, "b%d", i), nil)
	}
	if err := st.Write(&big); err == nil || !strings.Contains(err.Error(), "one transaction") {
		t.Fatalf("a batch of 200 changes: %v", err)
	}
}

// Of two candidates one leads; when it stops, the other takes over
// within the lease.
func TestEtcdElection(t *testing.T) {
	c := startCluster(t, 1)
	a := openStore(t, c)
	defer a.Close()
	// Both under one prefix: the election is the fleet's.
	bb, err := etcdstore.Open(etcdstore.Options{Endpoints: strings.Split(c.endpoints(), ","), Prefix: a.Prefix()})
	if err != nil {
		t.Fatal(err)
	}
	defer bb.Close()
	la := a.Campaign("jobs", "a", 2*time.Second, nil)
	waitFor(t, 10*time.Second, "a leads", la.Leading)
	lb := bb.Campaign("jobs", "b", 2*time.Second, nil)
	time.Sleep(500 * time.Millisecond)
	if lb.Leading() {
		t.Fatal("two leaders")
	}
	start := time.Now()
	la.Stop()
	waitFor(t, 10*time.Second, "b leads after a resigned", lb.Leading)
	t.Logf("hand-over after resignation: %v", time.Since(start))
	lb.Stop()
	resp, err := a.Client().Get(context.Background(), strings.TrimSuffix(a.Prefix(), "/")+"-election/", clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil || resp.Count != 0 {
		t.Fatalf("candidates left after both stopped: %v %v", resp, err)
	}
}

// waitFor polls cond until it holds or d passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	end := time.Now().Add(d)
	for !cond() {
		if time.Now().After(end) {
			t.Fatalf("%s: not within %v", what, d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A prefix a restore began and did not finish is refused, saying how to
// start over; a finished one is not.
func TestEtcdRestoreUnfinishedRefused(t *testing.T) {
	c := startCluster(t, 1)
	st := openStore(t, c)
	defer st.Close()
	if err := etcdstore.CheckRestored(st); err != nil {
		t.Fatalf("an empty prefix: %v", err)
	}
	var b keystore.Batch
	b.PutMeta("restoring", []byte("kmsd restore"))
	if err := st.Write(&b); err != nil {
		t.Fatal(err)
	}
	err := etcdstore.CheckRestored(st)
	if !errors.Is(err, etcdstore.ErrRestoreUnfinished) || !strings.Contains(err.Error(), "etcdctl del --prefix "+st.Prefix()) {
		t.Fatalf("a prefix with a restore cut short: %v", err)
	}
}
