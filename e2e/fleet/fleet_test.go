package fleet

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"kmsd/daemon/audit"
	"kmsd/internal/testkit"
	"kmsd/keystore"
	"kmsd/keystore/etcdstore"
)

// host is one kmsd of the fleet.
type host struct {
	name string
	d    *testkit.Daemon
}

// fleetArgs are a host's flags: a small staleness bound and lease, so
// that the tests see them pass.
func fleetArgs(c *cluster, name, prefix string) []string {
	return []string{"--store", "etcd", "--etcd-endpoints", c.endpoints(), "--etcd-prefix", prefix, "--fleet-host", name,
		"--fleet-max-staleness", "3s", "--fleet-lease", "2s"}
}

// testEnv runs scheduled work every 200 ms, eight days ahead of the wall
// clock: a deletion scheduled 7 days out falls due at once.
var testEnv = []string{"KMSD_TEST_TICK=200ms", "KMSD_TEST_CLOCK_OFFSET=192h"}

// startHost starts a fleet host whose state directory holds root key rk
// (nil: none, the fleet's first host makes it), with more flags ("{dir}"
// in them is the host's directory).
func startHost(t *testing.T, c *cluster, name, prefix string, rk []byte, more ...string) *host {
	t.Helper()
	dir := testkit.ShortDir(t)
	if rk != nil {
		if err := os.MkdirAll(filepath.Join(dir, "state"), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "state", "root-key"), rk, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "plaintext"), []byte("fleet"), 0o600); err != nil {
		t.Fatal(err)
	}
	for i := range more {
		more[i] = strings.ReplaceAll(more[i], "{dir}", dir)
	}
	d := testkit.Start(t, testkit.Config{Dir: dir, Args: append(fleetArgs(c, name, prefix), more...), Env: testEnv})
	return &host{name: name, d: d}
}

// metric scrapes the host's metrics socket (metrics.sock in its
// directory) and returns the value of an unlabelled metric.
func (h *host) metric(t *testing.T, name string) float64 {
	t.Helper()
	cl := http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", filepath.Join(h.d.Dir, "metrics.sock"))
	}}}
	resp, err := cl.Get("http://kmsd/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
	}
	t.Fatalf("no %s in the metrics:\n%s", name, body)
	return 0
}

// status is the host's Status, decoded.
func (h *host) status(t *testing.T) map[string]any {
	t.Helper()
	var st map[string]any
	if err := json.Unmarshal([]byte(h.d.OK(t, "status")), &st); err != nil {
		t.Fatal(err)
	}
	return st
}

func (h *host) fleet(t *testing.T) map[string]any {
	f, _ := h.status(t)["Fleet"].(map[string]any)
	return f
}

// try runs kmsctl and returns its output and the exception it printed,
// "" if it succeeded.
func (h *host) try(t *testing.T, args ...string) (string, string) {
	t.Helper()
	out, errs, code := h.d.Kmsctl(t, args...)
	if code == 0 {
		return out, ""
	}
	for _, f := range strings.Fields(errs) {
		f = strings.Trim(f, "():,")
		if strings.HasSuffix(f, "Exception") {
			return out, f
		}
	}
	return out, "exit " + fmt.Sprint(code) + ": " + errs
}

// until polls f until it returns "" and says how long that took.
func until(t *testing.T, d time.Duration, what string, f func() string) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		got := f()
		if got == "" {
			return time.Since(start)
		}
		if time.Since(start) > d {
			t.Fatalf("%s: not within %v (last: %s)", what, d, got)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func encryptArgs(key string) []string {
	return []string{"encrypt", "--key-id", key, "--plaintext", "fileb://plaintext", "--query", "CiphertextBlob", "--output", "text"}
}

// A fleet of three kmsd hosts on a three-member etcd cluster: keys made
// on one are used on the others, a change on one is enforced on the
// others within a second, two hosts never both take one alias, losing
// quorum stops changes at once and crypto after the staleness bound,
// quorum back brings every host up to date, and scheduled deletion
// happens once, on the host that leads, also when the leader dies.
func TestFleet(t *testing.T) {
	c := startCluster(t, 3)
	const prefix = "/fleet/"
	a := startHost(t, c, "a", prefix, nil)
	rk, err := os.ReadFile(filepath.Join(a.d.State, "root-key"))
	if err != nil {
		t.Fatal(err)
	}
	b := startHost(t, c, "b", prefix, rk, "--metrics-listen", "unix:{dir}/metrics.sock")
	cc := startHost(t, c, "c", prefix, rk)
	hosts := []*host{a, b, cc}

	t.Run("WrongRootKeyRefused", func(t *testing.T) {
		other := make([]byte, len(rk))
		rand.Read(other)
		dir := testkit.ShortDir(t)
		os.MkdirAll(filepath.Join(dir, "state"), 0o700)
		os.WriteFile(filepath.Join(dir, "state", "root-key"), other, 0o600)
		kmsd, _ := testkit.Binaries(t)
		d, err := testkit.StartProcess(kmsd, testkit.Config{Dir: dir, Args: fleetArgs(c, "d", prefix)})
		if err == nil {
			d.Stop()
			t.Fatal("a host with another root key started")
		}
		if !strings.Contains(err.Error(), "not the one the fleet's keys") {
			t.Fatalf("refusal does not say why: %v", err)
		}
	})

	var key string
	t.Run("CreateOnAUseOnBAndC", func(t *testing.T) {
		key = strings.TrimSpace(a.d.OK(t, "create-key", "--description", "fleet", "--query", "KeyMetadata.KeyId", "--output", "text"))
		a.d.OK(t, "create-alias", "--alias-name", "alias/fleet", "--target-key-id", key)
		var blob string
		d := until(t, time.Second, "b encrypts under alias/fleet", func() string {
			out, exc := b.try(t, encryptArgs("alias/fleet")...)
			blob = strings.TrimSpace(out)
			return exc
		})
		t.Logf("a's key and alias usable on b after %v", d)
		os.WriteFile(filepath.Join(cc.d.Dir, "blob.b64"), []byte(blob), 0o600)
		until(t, time.Second, "c decrypts b's blob", func() string {
			_, exc := cc.try(t, "decrypt", "--ciphertext-blob", "file://blob.b64")
			return exc
		})
	})

	t.Run("AccessKeysShared", func(t *testing.T) {
		id := strings.TrimSpace(a.d.OK(t, "create-access-key", "--query", "AccessKey.AccessKeyId", "--output", "text"))
		until(t, time.Second, "b lists a's access key", func() string {
			out := b.d.OK(t, "list-access-keys", "--query", "AccessKeyMetadata[].AccessKeyId", "--output", "text")
			if !strings.Contains(out, id) {
				return out
			}
			return ""
		})
		// Two hosts adding keys at once: neither add is lost.
		var wg sync.WaitGroup
		ids := make([]string, 2)
		for j, h := range []*host{b, cc} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ids[j] = strings.TrimSpace(h.d.OK(t, "create-access-key", "--query", "AccessKey.AccessKeyId", "--output", "text"))
			}()
		}
		wg.Wait()
		until(t, time.Second, "a lists all three", func() string {
			out := a.d.OK(t, "list-access-keys", "--query", "AccessKeyMetadata[].AccessKeyId", "--output", "text")
			for _, want := range append(ids, id) {
				if !strings.Contains(out, want) {
					return "missing " + want + " in " + out
				}
			}
			return ""
		})
		b.d.OK(t, "delete-access-key", "--access-key-id", id)
		until(t, time.Second, "c no longer lists the deleted key", func() string {
			if out := cc.d.OK(t, "list-access-keys", "--query", "AccessKeyMetadata[].AccessKeyId", "--output", "text"); strings.Contains(out, id) {
				return out
			}
			return ""
		})
	})

	t.Run("DisableOnBEnforcedOnAWithinASecond", func(t *testing.T) {
		var times []time.Duration
		for range 5 {
			b.d.OK(t, "disable-key", "--key-id", key)
			times = append(times, until(t, time.Second, "a refuses the disabled key", func() string {
				if _, exc := a.try(t, encryptArgs(key)...); exc != "DisabledException" {
					return "Encrypt: " + exc
				}
				return ""
			}))
			b.d.OK(t, "enable-key", "--key-id", key)
			until(t, time.Second, "a serves the enabled key", func() string { _, exc := a.try(t, encryptArgs(key)...); return exc })
		}
		sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
		t.Logf("disable on b refused on a after (sorted, kmsctl's own start included): %v", times)
	})

	t.Run("AliasRace", func(t *testing.T) {
		for i := range 10 {
			name := fmt.Sprintf("alias/race-%d", i)
			var wg sync.WaitGroup
			excs := make([]string, 3)
			for j, h := range hosts {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, excs[j] = h.try(t, "create-alias", "--alias-name", name, "--target-key-id", key)
				}()
			}
			wg.Wait()
			won := 0
			for _, e := range excs {
				switch e {
				case "":
					won++
				case "AlreadyExistsException":
				default:
					t.Fatalf("%s: %s", name, e)
				}
			}
			if won != 1 {
				t.Fatalf("%s: %d hosts created it: %v", name, won, excs)
			}
		}
	})

	t.Run("OneMemberDown", func(t *testing.T) {
		c.members[2].stop()
		defer c.restart(2)
		k := strings.TrimSpace(b.d.OK(t, "create-key", "--query", "KeyMetadata.KeyId", "--output", "text"))
		until(t, 5*time.Second, "c encrypts under b's new key", func() string { _, exc := cc.try(t, encryptArgs(k)...); return exc })
	})

	t.Run("QuorumLostThenBack", func(t *testing.T) {
		c.members[1].stop()
		c.members[2].stop()
		restored := false
		defer func() {
			if !restored { // the next tests need the quorum back
				c.restart(1)
				c.restart(2)
			}
		}()
		start := time.Now()
		// A change made the moment quorum goes waits for etcd's answer
		// (the request timeout, 3 s); once the heartbeat has gone
		// unanswered (1.25 s here) changes are refused without waiting.
		first, exc := b.try(t, "update-key-description", "--key-id", key, "--description", "no quorum")
		firstTook := time.Since(start)
		if exc != "DependencyTimeoutException" {
			t.Fatalf("a change without quorum: %s %s", first, exc)
		}
		time.Sleep(time.Until(start.Add(1500 * time.Millisecond)))
		asked := time.Now()
		if _, exc := b.try(t, "update-key-description", "--key-id", key, "--description", "no quorum"); exc != "DependencyTimeoutException" {
			t.Fatalf("a change without quorum: %s", exc)
		}
		took := time.Since(asked)
		t.Logf("without quorum: a change at once took %v to be refused; one 1.5 s later %v (kmsctl's start included)", firstTook, took)
		if took > time.Second {
			t.Fatalf("a change 1.5 s after quorum went took %v to be refused", took)
		}
		if _, exc := b.try(t, encryptArgs(key)...); exc != "" && time.Since(start) < 2*time.Second {
			t.Fatalf("crypto refused within the staleness bound: %s", exc)
		}
		d := until(t, 15*time.Second, "b refuses crypto past the staleness bound", func() string {
			if _, exc := b.try(t, encryptArgs(key)...); exc != "DependencyTimeoutException" {
				return "Encrypt: " + exc
			}
			return ""
		})
		t.Logf("crypto refused %v after quorum was lost (bound 3s; %v after the first refused change)", time.Since(start), d)
		if f := b.fleet(t); f["Error"] == nil || f["StalenessMillis"].(float64) < 3000 {
			t.Fatalf("status while stale: %v", f)
		}
		if up, stale := b.metric(t, "kmsd_fleet_store_up"), b.metric(t, "kmsd_fleet_staleness_seconds"); up != 0 || stale < 3 {
			t.Fatalf("metrics while stale: kmsd_fleet_store_up %v, kmsd_fleet_staleness_seconds %v", up, stale)
		}
		c.restart(1)
		c.restart(2)
		restored = true
		back := time.Now()
		for _, h := range hosts {
			until(t, 20*time.Second, h.name+" serves again", func() string { _, exc := h.try(t, encryptArgs(key)...); return exc })
		}
		t.Logf("every host served crypto again %v after quorum came back", time.Since(back))
		// The restarted members may hold another election first: until the
		// store answers b's heartbeat again, a change is refused at once
		// (DependencyTimeoutException), and only that refusal is waited out.
		waited := until(t, 10*time.Second, "b takes a change again", func() string {
			_, exc := b.try(t, "update-key-description", "--key-id", key, "--description", "quorum back")
			if exc != "" && exc != "DependencyTimeoutException" {
				t.Fatalf("a change after quorum came back: %s", exc)
			}
			return exc
		})
		t.Logf("b took a change again %v after quorum came back (%v of it waiting for the store to answer)", time.Since(back), waited)
		for _, h := range hosts {
			until(t, 2*time.Second, h.name+" sees the new description", func() string {
				out := h.d.OK(t, "describe-key", "--key-id", key, "--query", "KeyMetadata.Description", "--output", "text")
				if strings.TrimSpace(out) != "quorum back" {
					return out
				}
				return ""
			})
		}
		if up := b.metric(t, "kmsd_fleet_store_up"); up != 1 {
			t.Fatalf("kmsd_fleet_store_up %v after quorum came back", up)
		}
		if !strings.Contains(b.d.Log.String(), "caught up") {
			t.Fatalf("b did not say it caught up:\n%s", b.d.Log)
		}
	})

	t.Run("BackupRestoresIntoBadger", func(t *testing.T) {
		blob := strings.TrimSpace(cc.d.OK(t, encryptArgs("alias/fleet")...))
		file := filepath.Join(testkit.ShortDir(t), "fleet.backup")
		b.d.OK(t, "backup", "--out", file)
		dir := testkit.ShortDir(t)
		state := filepath.Join(dir, "state")
		os.MkdirAll(state, 0o700)
		os.WriteFile(filepath.Join(state, "root-key"), rk, 0o600)
		kmsd, _ := testkit.Binaries(t)
		if out, err := exec.Command(kmsd, "restore", "--state-dir", state, file).CombinedOutput(); err != nil {
			t.Fatalf("restore: %v %s", err, out)
		}
		single := testkit.Start(t, testkit.Config{Dir: dir})
		os.WriteFile(filepath.Join(dir, "blob.b64"), []byte(blob), 0o600)
		single.OK(t, "decrypt", "--ciphertext-blob", "file://blob.b64")
		single.OK(t, "describe-key", "--key-id", "alias/fleet")
	})

	t.Run("DeletionOnceWhenTheLeaderDies", func(t *testing.T) {
		var leader *host
		until(t, 10*time.Second, "one host leads", func() string {
			n := 0
			for _, h := range hosts {
				if h.fleet(t)["Leader"] == true {
					leader, n = h, n+1
				}
			}
			if n != 1 {
				return fmt.Sprintf("%d leaders (%v)", n, a.fleet(t))
			}
			return ""
		})
		var rest []*host
		for _, h := range hosts {
			if h != leader {
				rest = append(rest, h)
			}
		}
		doomed := strings.TrimSpace(rest[0].d.OK(t, "create-key", "--query", "KeyMetadata.KeyId", "--output", "text"))
		until(t, time.Second, "the other host sees the key", func() string { _, exc := rest[1].try(t, encryptArgs(doomed)...); return exc })
		leader.d.Kill()
		rest[0].d.OK(t, "schedule-key-deletion", "--key-id", doomed, "--pending-window-in-days", "7")
		d := until(t, 15*time.Second, "the key is deleted", func() string {
			for _, h := range rest {
				if _, exc := h.try(t, "describe-key", "--key-id", doomed); exc != "NotFoundException" {
					return h.name + ": " + exc
				}
			}
			return ""
		})
		t.Logf("leader %s killed; the key was deleted %v later (lease 2s, tick 200ms)", leader.name, d)
		deletions := 0
		for _, h := range hosts {
			files, err := audit.Files(filepath.Join(h.d.State, "audit"))
			if err != nil {
				t.Fatal(err)
			}
			audit.Query(files, audit.Filter{Operation: "DeleteKey", KeyID: doomed}, func(line []byte) error {
				if !bytes.Contains(line, []byte(`"host":"`+h.name+`"`)) {
					t.Errorf("a record of %s does not name it: %s", h.name, line)
				}
				deletions++
				return nil
			})
		}
		if deletions != 1 {
			t.Fatalf("the key was deleted %d times", deletions)
		}
	})

	t.Run("AuditOfTheFleet", func(t *testing.T) {
		dirs := []string{"audit", "query"}
		for _, h := range hosts {
			dirs = append(dirs, filepath.Join(h.d.State, "audit"))
		}
		out := b.d.OK(t, append(dirs, "--operation", "Encrypt", "--key-id", key)...)
		var last time.Time
		seen := map[string]int{}
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			var r struct {
				Time time.Time
				Host string
			}
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				t.Fatalf("%v: %s", err, line)
			}
			if r.Time.Before(last) {
				t.Fatalf("merged trails out of time order at %s", line)
			}
			last = r.Time
			seen[r.Host]++
		}
		if seen["a"] == 0 || seen["b"] == 0 || seen["c"] == 0 {
			t.Fatalf("Encrypt records by host: %v; want every host's", seen)
		}
		dirs[1] = "usage"
		var usage struct {
			Usage []struct {
				KeyId, Operation string
				Requests         int
			}
		}
		if err := json.Unmarshal([]byte(b.d.OK(t, dirs...)), &usage); err != nil {
			t.Fatal(err)
		}
		total := 0
		for _, u := range usage.Usage {
			if u.KeyId == key && u.Operation == "Encrypt" {
				total += u.Requests
			}
		}
		if want := seen["a"] + seen["b"] + seen["c"]; total < want {
			t.Fatalf("audit usage counts %d Encrypt requests of the key, the trails hold %d records of them", total, want)
		}
		t.Logf("Encrypt records by host: %v; audit usage over the three trails: %d", seen, total)
	})
}

// A host starting on a fleet of 10,000 keys (the key quota) loads them
// all before it serves; the bound asserted is generous, the time logged.
func TestFleetLoads10000Keys(t *testing.T) {
	c := startCluster(t, 1)
	const prefix = "/big/"
	rkBytes := make([]byte, keystore.RootKeySize)
	rand.Read(rkBytes)
	rk, err := keystore.NewRootKey(rkBytes)
	if err != nil {
		t.Fatal(err)
	}
	st, err := etcdstore.Open(etcdstore.Options{Endpoints: strings.Split(c.endpoints(), ","), Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := keystore.Init(st, rk); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	for i := 0; i < 10_000; i += 100 {
		var b keystore.Batch
		for range 100 {
			id := keystore.NewKeyID()
			m := make([]byte, 32)
			rand.Read(m)
			sealed, err := rk.Seal(id, 1, m)
			if err != nil {
				t.Fatal(err)
			}
			b.PutKey(&keystore.KeyRecord{KeyID: id, CreationDate: now, KeyUsage: "ENCRYPT_DECRYPT", KeySpec: "SYMMETRIC_DEFAULT",
				Origin: "AWS_KMS", KeyManager: "CUSTOMER", KeyState: "Enabled",
				Versions: []keystore.Version{{Version: 1, Sealed: sealed, CreationDate: now}}})
		}
		if err := st.Write(&b); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	h := startHost(t, c, "big", prefix, rkBytes)
	took := time.Since(start)
	if n := h.status(t)["KeyCount"].(float64); n != 10_000 {
		t.Fatalf("KeyCount %v, want 10000", n)
	}
	t.Logf("a host started on 10,000 keys in %v (process start, load, audit, socket)", took)
	if took > 30*time.Second {
		t.Fatalf("start on 10,000 keys took %v, over the 30s bound", took)
	}
}

// The fleet's root key is rotated offline, every host stopped (refused
// while one runs), and a backup of the fleet restores into an empty
// prefix (refused into one that holds records); hosts started on either
// open what was sealed before.
func TestFleetRotateAndRestore(t *testing.T) {
	c := startCluster(t, 1)
	kmsd, _ := testkit.Binaries(t)
	a := startHost(t, c, "a", "/r/", nil)
	rkPath := filepath.Join(a.d.State, "root-key")
	rk, err := os.ReadFile(rkPath)
	if err != nil {
		t.Fatal(err)
	}
	key := strings.TrimSpace(a.d.OK(t, "create-key", "--query", "KeyMetadata.KeyId", "--output", "text"))
	a.d.OK(t, "create-alias", "--alias-name", "alias/kept", "--target-key-id", key)
	blob := strings.TrimSpace(a.d.OK(t, encryptArgs("alias/kept")...))
	backup := filepath.Join(testkit.ShortDir(t), "fleet.backup")
	a.d.OK(t, "backup", "--out", backup)
	etcd := []string{"--store", "etcd", "--etcd-endpoints", c.endpoints()}
	run := func(args ...string) (string, error) {
		out, err := exec.Command(kmsd, args...).CombinedOutput()
		return string(out), err
	}
	newKey := filepath.Join(testkit.ShortDir(t), "new-root-key")
	if err := keystore.CreateRootKey(newKey); err != nil {
		t.Fatal(err)
	}
	rotate := append([]string{"rotate-root-key", "--state-dir", a.d.State, "--new-root-key-file", newKey, "--etcd-prefix", "/r/"}, etcd...)
	if out, err := run(rotate...); err == nil || !strings.Contains(out, "hosts of the fleet are running (a)") {
		t.Fatalf("rotation while a host runs: %v %s", err, out)
	}
	if err := a.d.Stop(); err != nil {
		t.Fatal(err)
	}
	if out, err := run(rotate...); err != nil || !strings.Contains(out, "done: 2 keys") {
		t.Fatalf("rotation: %v %s", err, out) // the key and kmsd's own audit key
	}
	// The old root key no longer opens the fleet; the new one does, and
	// what was sealed before decrypts.
	if _, err := testkit.StartProcess(kmsd, testkit.Config{Dir: testkit.ShortDir(t), Args: fleetArgs(c, "old", "/r/")}); err == nil {
		t.Fatal("a host started with the root key the fleet rotated away from")
	}
	nk, _ := os.ReadFile(newKey)
	b := startHost(t, c, "b", "/r/", nk)
	os.WriteFile(filepath.Join(b.d.Dir, "blob.b64"), []byte(blob), 0o600)
	b.d.OK(t, "decrypt", "--ciphertext-blob", "file://blob.b64")

	// The backup, taken under the old root key, into an empty prefix.
	restore := append([]string{"restore", "--state-dir", testkit.ShortDir(t), "--root-key-file", rkPath, "--etcd-prefix", "/restored/", backup}, etcd...)
	if out, err := run(restore...); err != nil || !strings.Contains(out, "into etcd under /restored/") {
		t.Fatalf("restore: %v %s", err, out)
	}
	if out, err := run(restore...); err == nil || !strings.Contains(out, "holds") {
		t.Fatalf("a restore into a prefix that holds records: %v %s", err, out)
	}
	r := startHost(t, c, "r", "/restored/", rk)
	os.WriteFile(filepath.Join(r.d.Dir, "blob.b64"), []byte(blob), 0o600)
	r.d.OK(t, "decrypt", "--ciphertext-blob", "file://blob.b64")
	r.d.OK(t, "describe-key", "--key-id", "alias/kept")
}

// The fleet's offline rotation killed at each step leaves a fleet that
// opens under the key it was committed to, and only that one: before
// the commit the old key (the next seals dropped), after it the new
// (promoted at the first host's start). What was sealed before decrypts.
func TestFleetRotationCrashSafe(t *testing.T) {
	c := startCluster(t, 1)
	kmsd, _ := testkit.Binaries(t)
	for i, step := range []struct {
		name     string
		newOpens bool // the store was committed to the new key
	}{{"next-seals-written", false}, {"committed", true}} {
		prefix := fmt.Sprintf("/crash%d/", i)
		a := startHost(t, c, "a", prefix, nil)
		rkPath := filepath.Join(a.d.State, "root-key")
		rk, _ := os.ReadFile(rkPath)
		key := strings.TrimSpace(a.d.OK(t, "create-key", "--query", "KeyMetadata.KeyId", "--output", "text"))
		blob := strings.TrimSpace(a.d.OK(t, encryptArgs(key)...))
		if err := a.d.Stop(); err != nil {
			t.Fatal(err)
		}
		newKey := filepath.Join(testkit.ShortDir(t), "new-root-key")
		keystore.CreateRootKey(newKey)
		cmd := exec.Command(kmsd, "rotate-root-key", "--state-dir", a.d.State, "--new-root-key-file", newKey,
			"--store", "etcd", "--etcd-endpoints", c.endpoints(), "--etcd-prefix", prefix)
		cmd.Env = append(os.Environ(), "KMSD_TEST_CRASH_AT="+step.name)
		if out, err := cmd.CombinedOutput(); err == nil {
			t.Fatalf("%s: the rotation was not killed: %s", step.name, out)
		}
		nk, _ := os.ReadFile(newKey)
		opens, refused := rk, nk
		if step.newOpens {
			opens, refused = nk, rk
		}
		dir := testkit.ShortDir(t)
		os.MkdirAll(filepath.Join(dir, "state"), 0o700)
		os.WriteFile(filepath.Join(dir, "state", "root-key"), refused, 0o600)
		if _, err := testkit.StartProcess(kmsd, testkit.Config{Dir: dir, Args: fleetArgs(c, "x", prefix)}); err == nil {
			t.Fatalf("%s: a host started with the key the fleet is not committed to", step.name)
		}
		h := startHost(t, c, "b", prefix, opens)
		os.WriteFile(filepath.Join(h.d.Dir, "blob.b64"), []byte(blob), 0o600)
		h.d.OK(t, "decrypt", "--ciphertext-blob", "file://blob.b64")
		// Nothing of the rotation is left: every key's record opens under
		// the key the fleet is committed to (a new key decrypts too).
		blob2 := strings.TrimSpace(h.d.OK(t, encryptArgs(key)...))
		os.WriteFile(filepath.Join(h.d.Dir, "blob2.b64"), []byte(blob2), 0o600)
		h.d.OK(t, "decrypt", "--ciphertext-blob", "file://blob2.b64")
	}
}
