package e2e

import (
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"kmsd/internal/testkit"
	"kmsd/wire"
	"kmsd/wire/api"
	"kmsd/wire/client"
)

// TestSoak runs the hostile mix of issue 15 against one kmsd for
// $KMSD_SOAK (a Go duration; `make soak DURATION=10m`), beside a
// well-behaved client, and reports what that client saw and what kmsd
// held. It is skipped unless KMSD_SOAK is set. The mix, all from another
// user (nobody): idle connections that never say Hello; connections that
// announce 4 MiB frames, send most of them and stall; amplifying frames;
// connections that pipeline requests and never read; a flood of failing
// requests; and, every 30 s, kill -9 and a restart of kmsd. And the new
// front doors' (issue 25): floods of the metrics listener and of the AWS
// endpoint's TCP listener (unsigned requests announcing 256 KiB bodies
// sent slowly), access keys and costly GetParametersForImport calls as
// fast as one user can make them, and a member of the admin group trying
// the two escalations to root (an access key for uid 0, a PKCS#11 module
// of its own) every half second.
func TestSoak(t *testing.T) {
	spec := os.Getenv("KMSD_SOAK")
	if spec == "" {
		t.Skip("set KMSD_SOAK to a duration (make soak DURATION=10m)")
	}
	duration, err := time.ParseDuration(spec)
	if err != nil {
		t.Fatal(err)
	}
	testkit.RequireRoot(t)
	dir := testkit.ShortDir(t)
	os.Chmod(dir, 0o755)
	metricsAddr, awsAddr := freeAddr(t), freeAddr(t)
	cfg := testkit.Config{Dir: dir, Args: []string{"--socket-mode", "0666", "--log-level", "warn",
		"--metrics-listen", "tcp:" + metricsAddr, "--aws-listen", "tcp:" + awsAddr, "--admin-group", "4"}}
	var mu sync.Mutex
	d := testkit.Start(t, cfg)
	daemon := func() *testkit.Daemon { mu.Lock(); defer mu.Unlock(); return d }
	ctx := context.Background()
	key := createKey(t, d)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	run := func(name string, f func()) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				f()
			}
		}()
	}
	sock := filepath.Join(dir, "kmsd.sock")
	nobody := func() net.Conn {
		nc, err := testkit.ConnectAs(sock, 65534, 65534)
		if err != nil { // kmsd restarting, or at its limits
			time.Sleep(50 * time.Millisecond)
			return nil
		}
		return nc
	}
	hello, _ := wire.AppendRequest(nil, 1, api.OpHello, &api.HelloInput{ProtocolVersion: wire.ProtocolVersion})
	// Idle connections, 200 at a time.
	run("idle", func() {
		var held []net.Conn
		for range 200 {
			if nc := nobody(); nc != nil {
				held = append(held, nc)
			}
		}
		time.Sleep(2 * time.Second)
		for _, nc := range held {
			nc.Close()
		}
	})
	// Held frames: 50 connections announce 4 MiB and send 3.9.
	body := make([]byte, wire.MaxFrame-100<<10)
	run("held frames", func() {
		var held []net.Conn
		for range 50 {
			nc := nobody()
			if nc == nil {
				continue
			}
			nc.SetDeadline(time.Now().Add(3 * time.Second))
			nc.Write(hello)
			go func() {
				nc.Write(binary.BigEndian.AppendUint32(nil, wire.MaxFrame-16))
				nc.Write(body)
			}()
			held = append(held, nc)
		}
		time.Sleep(3 * time.Second)
		for _, nc := range held {
			nc.Close()
		}
	})
	// Amplifying frames: a 4 MiB frame of empty checkpoint entries.
	amp := append(binary.BigEndian.AppendUint32(nil, 0), 0x94, 0x01, 0x02, 0xb6)
	amp = append(amp, "VerifyAuditCheckpoints"...)
	amp = append(amp, 0x81, 0xab)
	amp = append(amp, "Checkpoints"...)
	amp = append(amp, 0xdd)
	amp = binary.BigEndian.AppendUint32(amp, 4000000)
	for range 4000000 {
		amp = append(amp, 0x80)
	}
	binary.BigEndian.PutUint32(amp, uint32(len(amp)-4))
	run("amplifying", func() {
		if nc := nobody(); nc != nil {
			nc.SetDeadline(time.Now().Add(5 * time.Second))
			nc.Write(hello)
			nc.Write(amp)
			nc.Read(make([]byte, 4096))
			nc.Close()
		}
		time.Sleep(200 * time.Millisecond)
	})
	// Non-readers: 3 connections pipeline 1,100 requests each.
	var pipe []byte
	for i := range uint64(1100) {
		pipe, _ = wire.AppendRequest(pipe, i+2, api.OpGenerateRandom, &api.GenerateRandomInput{NumberOfBytes: api.Int32(1024)})
	}
	run("non-readers", func() {
		var held []net.Conn
		for range 3 {
			if nc := nobody(); nc != nil {
				nc.SetDeadline(time.Now().Add(5 * time.Second))
				nc.Write(hello)
				go nc.Write(pipe)
				held = append(held, nc)
			}
		}
		time.Sleep(5 * time.Second)
		for _, nc := range held {
			nc.Close()
		}
	})
	// A flood of failing requests.
	var flood []byte
	for i := range uint64(2000) {
		flood, _ = wire.AppendRequest(flood, i+2, api.OpEncrypt, &api.EncryptInput{KeyId: "alias/none", Plaintext: make([]byte, 64),
			EncryptionContext: map[string]string{"pad": strings.Repeat("x", 4000)}})
	}
	run("failure flood", func() {
		if nc := nobody(); nc != nil {
			nc.SetDeadline(time.Now().Add(5 * time.Second))
			nc.Write(hello)
			go nc.Write(flood)
			buf := make([]byte, 1<<16)
			for {
				if _, err := nc.Read(buf); err != nil {
					break
				}
			}
			nc.Close()
		}
	})

	// The metrics listener: 200 connections at a time, held.
	run("metrics flood", func() {
		var held []net.Conn
		for range 200 {
			if nc, err := net.Dial("tcp", metricsAddr); err == nil {
				held = append(held, nc)
			}
		}
		time.Sleep(2 * time.Second)
		for _, nc := range held {
			nc.Close()
		}
	})
	// The AWS endpoint: 200 unsigned requests at a time, each announcing a
	// 256 KiB body and sending it a byte at a time.
	unsigned := "POST / HTTP/1.1\r\nHost: " + awsAddr + "\r\nContent-Type: application/x-amz-json-1.1\r\n" +
		"X-Amz-Target: TrentService.Encrypt\r\nContent-Length: 262144\r\n\r\n"
	run("aws unsigned bodies", func() {
		var held []net.Conn
		for range 200 {
			if nc, err := net.Dial("tcp", awsAddr); err == nil {
				nc.SetDeadline(time.Now().Add(3 * time.Second))
				nc.Write([]byte(unsigned))
				held = append(held, nc)
			}
		}
		for range 20 {
			for _, nc := range held {
				nc.Write([]byte("{"))
			}
			time.Sleep(100 * time.Millisecond)
		}
		for _, nc := range held {
			nc.Close()
		}
	})
	// Access keys and key pairs, as fast as one user can ask.
	run("access-key flood", func() {
		c, err := dialRaw(sock, 65534)
		if err != nil {
			time.Sleep(50 * time.Millisecond)
			return
		}
		defer c.Close()
		for range 20 {
			c.call(api.OpCreateAccessKey, &api.CreateAccessKeyInput{})
		}
		time.Sleep(100 * time.Millisecond)
	})
	ext, err := dialRaw(sock, 65534)
	if err != nil {
		t.Fatal(err)
	}
	out, err := ext.call(api.OpCreateKey, &api.CreateKeyInput{Origin: api.OriginExternal})
	ext.Close()
	if err != nil {
		t.Fatal(err)
	}
	nobodysExternal := out.(*api.KeyMetadataOutput).KeyMetadata.KeyId
	run("import flood", func() {
		c, err := dialRaw(sock, 65534)
		if err != nil {
			time.Sleep(50 * time.Millisecond)
			return
		}
		defer c.Close()
		id := nobodysExternal
		for range 20 {
			c.call(api.OpGetParametersForImport, &api.GetParametersForImportInput{KeyId: id,
				WrappingAlgorithm: api.WrapOAEPSHA256, WrappingKeySpec: api.WrapRSA4096})
		}
	})
	// A member of the admin group trying to become root.
	var escalations atomic.Int64
	_, kmsctl := testkit.Binaries(t)
	run("admin escalations", func() {
		for _, args := range [][]string{{"create-access-key", "--principal", "uid:0"},
			{"create-custom-key-store", "--custom-key-store-name", "mine", "--pkcs11-module", "/tmp/libmine.so",
				"--token-label", "t", "--key-store-password-file", "/tmp/pin"}} {
			cmd := exec.Command(kmsctl, args...)
			cmd.Env = []string{"KMSD_SOCKET=" + sock, "PATH=/usr/bin:/bin"}
			cmd.Dir = "/"
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65533, Gid: 65533, Groups: []uint32{4}}}
			if out, err := cmd.CombinedOutput(); err == nil {
				escalations.Add(1)
				t.Errorf("an admin escalated: kmsctl %v: %s", args, out)
			}
		}
		time.Sleep(500 * time.Millisecond)
	})

	// The well-behaved client, and kmsd's resources, sampled.
	var lat []time.Duration
	var failed, calls atomic.Int64
	var peakRSS, peakFDs int64
	var kills, unexpected int
	deadline := time.Now().Add(duration)
	nextKill := time.Now().Add(30 * time.Second)
	c, err := client.Dial(ctx, sock, client.Options{Client: "soak"})
	if err != nil {
		t.Fatal(err)
	}
	for time.Now().Before(deadline) {
		start := time.Now()
		ok := false
		for try := 0; try < 50 && !ok; try++ { // a client that retries for up to ~10 s
			cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			out, err := c.Encrypt(cctx, &api.EncryptInput{KeyId: key, Plaintext: []byte("well-behaved")})
			if err == nil {
				_, err = c.Decrypt(cctx, &api.DecryptInput{CiphertextBlob: out.CiphertextBlob})
			}
			cancel()
			ok = err == nil
			if !ok {
				time.Sleep(200 * time.Millisecond)
			}
		}
		calls.Add(1)
		if !ok {
			failed.Add(1)
		}
		lat = append(lat, time.Since(start))
		if calls.Load()%50 == 0 {
			pid := daemon().Pid()
			peakRSS = max(peakRSS, procKiB(pid, "VmRSS:"))
			if fds, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/fd"); err == nil {
				peakFDs = max(peakFDs, int64(len(fds)))
			}
		}
		select {
		case <-daemon().Exited():
			unexpected++
			t.Logf("kmsd exited on its own:\n%s", daemon().Log)
			mu.Lock()
			d = testkit.Start(t, cfg)
			mu.Unlock()
		default:
		}
		if time.Now().After(nextKill) {
			daemon().Kill()
			kills++
			mu.Lock()
			d = testkit.Start(t, cfg)
			mu.Unlock()
			nextKill = time.Now().Add(30 * time.Second)
		}
		time.Sleep(time.Millisecond)
	}
	close(stop)
	wg.Wait()
	slices.Sort(lat)
	report := fmt.Sprintf("soak %v: well-behaved calls %d, failed %d, p50 %v, p99 %v; kmsd peak RSS %d MiB, peak fds %d; kill -9 %d, exits on its own %d; admin escalations %d",
		duration, calls.Load(), failed.Load(), lat[len(lat)/2], lat[len(lat)*99/100], peakRSS>>10, peakFDs, kills, unexpected, escalations.Load())
	t.Log(report)
	if failed.Load() != 0 || unexpected != 0 {
		t.Error(report)
	}
}

// freeAddr is a loopback address no one listens on now.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// rawConn is a connection to kmsd's socket as some uid, with the
// protocol's frames written and read by hand.
type rawConn struct {
	net.Conn
	id uint64
}

// dialRaw connects as uid (and gid uid) and says Hello.
func dialRaw(sock string, uid uint32) (*rawConn, error) {
	nc, err := testkit.ConnectAs(sock, uid, uid)
	if err != nil {
		return nil, err
	}
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	c := &rawConn{Conn: nc}
	if _, err := c.call(api.OpHello, &api.HelloInput{ProtocolVersion: wire.ProtocolVersion}); err != nil {
		nc.Close()
		return nil, err
	}
	return c, nil
}

// call makes one call and waits for its answer.
func (c *rawConn) call(op string, in api.Message) (api.Message, error) {
	c.id++
	req, err := wire.AppendRequest(nil, c.id, op, in)
	if err != nil {
		return nil, err
	}
	if _, err := c.Write(req); err != nil {
		return nil, err
	}
	body, err := wire.ReadFrame(c, nil, wire.MaxFrame)
	if err != nil {
		return nil, err
	}
	resp, err := wire.DecodeResponseCopy(body, func(uint64) (*api.OpSpec, bool) { return api.Lookup(op), true })
	if err != nil {
		return nil, err
	}
	if resp.Err != nil {
		return nil, resp.Err
	}
	return resp.Body, nil
}

func createKey(t *testing.T, d *testkit.Daemon) string {
	t.Helper()
	return strings.TrimSpace(d.OK(t, "create-key", "--query", "KeyMetadata.KeyId", "--output", "text"))
}

// procKiB reads a "Name: N kB" line of /proc/PID/status.
func procKiB(pid int, name string) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, name); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return n
		}
	}
	return 0
}
