package bench

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"kmsd/bench/measure"
	"kmsd/internal/ci"
	"kmsd/internal/testkit"
)

// BenchmarkScale is what one item costs kmsd as it is given more cores:
// for each N of KMSD_SCALE_WORKERS (default 1,2), kmsd runs with
// --workers N pinned by taskset to CPUs 0..N-1, and every caller is a
// separate process pinned to the upper half of the CPUs (to all of them
// where kmsd's N reach that half, as N=2 does on two CPUs). The figure
// to read is server-ns/item, kmsd's own CPU time per item from
// /proc/PID/stat: it stays flat when kmsd scales, and grows with what its
// cores contend for. Audit and authorization are at their defaults.
//
//	op=Encrypt/size=32/mode=batch=256          one process, batches of 256
//	op=Decrypt/size=32/mode=batch=256
//	op=Encrypt/size=4096/mode=batch=256
//	op=Encrypt/size=32/mode=procs=8x8          8 processes x 8 callers
//	op=GenerateDataKey/size=32/mode=procs=1x64 64 callers on one client
//	echo/size=32/mode=procs=8x8                the same 8x8 round trips on
//	                                           an echo server pinned as
//	                                           kmsd is: the socket's floor
//
// bench/scale.sh runs it up to half a bigger machine's CPUs and prints
// the table of CPU per item by N.
func BenchmarkScale(b *testing.B) {
	if _, err := exec.LookPath("taskset"); err != nil {
		ci.Skip(b, "taskset (util-linux) is needed to pin kmsd and its callers")
	}
	ncpu := runtime.NumCPU()
	for _, n := range scaleWorkers(b, ncpu) {
		server, callers := scaleCPUs(n, ncpu)
		b.Run("workers="+itoa(n), func(b *testing.B) {
			b.Logf("kmsd on CPUs %s, callers on CPUs %s", server, callers)
			d := startPinned(b, server, "--workers", itoa(n))
			rows := []struct {
				op           string
				procs, calls int // processes, callers in each
				items        int // items per call
			}{
				{"op=Encrypt/size=32", 1, 1, 256},
				{"op=Decrypt/size=32", 1, 1, 256},
				{"op=Encrypt/size=4096", 1, 1, 256},
				{"op=Encrypt/size=32", 8, 8, 1},
				{"op=GenerateDataKey/size=32", 1, 64, 1},
			}
			for _, r := range rows {
				o := findOp(r.op)
				mode := "batch=" + itoa(r.items)
				if r.items == 1 {
					mode = fmt.Sprintf("procs=%dx%d", r.procs, r.calls)
				}
				b.Run(r.op+"/mode="+mode, func(b *testing.B) {
					spec := measure.Spec{Callers: r.procs * r.calls, Items: r.items, Bytes: o.size, PID: d.pid, ServerAllocs: d.heapAllocs}
					measure.RunProcs(b, spec, r.procs, func(p, calls int) *exec.Cmd {
						return pinned(callers, envChild+"="+o.name, envSock+"="+d.Sock, envKey+"="+d.key,
							envCalls+"="+itoa(calls), envCallers+"="+itoa(r.calls), envItems+"="+itoa(r.items))
					})
				})
			}
			sock, pid := startEcho(b, server)
			b.Run("echo/size=32/mode=procs=8x8", func(b *testing.B) {
				measure.RunProcs(b, measure.Spec{Callers: 64, Bytes: 32, PID: pid}, 8, func(p, calls int) *exec.Cmd {
					return pinned(callers, envChild+"="+echoChild, envSock+"="+sock, envCalls+"="+itoa(calls), envCallers+"=8")
				})
			})
		})
	}
}

// scaleWorkers is KMSD_SCALE_WORKERS, or 1 and 2 (those that fit ncpu).
func scaleWorkers(b *testing.B, ncpu int) []int {
	spec := cmp.Or(os.Getenv("KMSD_SCALE_WORKERS"), "1,2")
	var ns []int
	for f := range strings.SplitSeq(spec, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > ncpu {
			b.Fatalf("KMSD_SCALE_WORKERS=%q: %q is not a count of CPUs from 1 to %d", spec, f, ncpu)
		}
		ns = append(ns, n)
	}
	return ns
}

// scaleCPUs places kmsd on CPUs 0..n-1 and its callers on the upper half
// of ncpu, or on every CPU when kmsd's reach into that half.
func scaleCPUs(n, ncpu int) (server, callers string) {
	server = fmt.Sprintf("0-%d", n-1)
	if n <= ncpu/2 {
		return server, fmt.Sprintf("%d-%d", ncpu/2, ncpu-1)
	}
	return server, fmt.Sprintf("0-%d", ncpu-1)
}

// startPinned starts kmsd under taskset on cpus.
func startPinned(b *testing.B, cpus string, args ...string) *kmsd {
	return startWith(b, testkit.Config{Wrap: []string{"taskset", "-c", cpus}}, args...)
}

// pinned is this test binary again, as a child told by env what to do,
// under taskset on cpus.
func pinned(cpus string, env ...string) *exec.Cmd {
	c := exec.Command("taskset", "-c", cpus, os.Args[0])
	c.Env = append(os.Environ(), env...)
	return c
}

// startEcho starts an echo server process on cpus, stopped when the
// benchmark ends, and returns its socket and pid.
func startEcho(b *testing.B, cpus string) (string, int) {
	sock := filepath.Join(testkit.ShortDir(b), "echo.sock")
	c := pinned(cpus, envChild+"="+echoServerChild, envSock+"="+sock)
	c.Stderr = os.Stderr
	in, err1 := c.StdinPipe()
	out, err2 := c.StdoutPipe()
	if err := c.Start(); err != nil || err1 != nil || err2 != nil {
		b.Fatalf("echo server: %v %v %v", err, err1, err2)
	}
	b.Cleanup(func() { in.Close(); c.Wait() })
	if line, err := bufio.NewReader(out).ReadString('\n'); err != nil || line != "ready\n" {
		b.Fatalf("echo server did not get ready: %q %v", line, err)
	}
	return sock, c.Process.Pid
}

// echoServerChild is the child that serves echoes on envSock until its
// standard input closes.
const echoServerChild = "echo-server"

func runEchoServer() error {
	ln, err := net.Listen("unix", os.Getenv(envSock))
	if err != nil {
		return err
	}
	defer ln.Close()
	go serveEcho(ln)
	if _, err := os.Stdout.WriteString("ready\n"); err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, os.Stdin)
	return err
}

// findOp is the op of ops named name.
func findOp(name string) *op {
	for i := range ops {
		if ops[i].name == name {
			return &ops[i]
		}
	}
	return nil
}
