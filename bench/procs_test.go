package bench

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"testing"

	"kmsd/bench/measure"
	"kmsd/wire/client"
)

// The calling processes of mode=procs are this test binary again, told
// by these variables what to call (see runChild).
const (
	envChild   = "KMSD_BENCH_CHILD" // the op's name, as in ops
	envSock    = "KMSD_BENCH_SOCK"
	envKey     = "KMSD_BENCH_KEY"
	envCalls   = "KMSD_BENCH_CALLS"
	envCallers = "KMSD_BENCH_CALLERS"
	envItems   = "KMSD_BENCH_ITEMS" // items per call: a batch if over 1
)

// runProcs measures o with procs processes of callers callers each, every
// process with one client (so its callers' calls coalesce, as in one
// program).
func runProcs(b *testing.B, d *kmsd, o op, procs, callers int) {
	spec := measure.Spec{Callers: procs * callers, Bytes: o.size, PID: d.pid, ServerAllocs: d.heapAllocs}
	measure.RunProcs(b, spec, procs, func(p, n int) *exec.Cmd {
		c := exec.Command(os.Args[0])
		c.Env = append(os.Environ(), envChild+"="+o.name, envSock+"="+d.Sock, envKey+"="+d.key,
			envCalls+"="+strconv.Itoa(n), envCallers+"="+strconv.Itoa(callers))
		return c
	})
}

// echoChild is the child of BenchmarkRaw's echo/procs mode.
const echoChild = "echo"

// runChild is a calling process: it connects, makes its inputs, and
// calls as measure.Child says. It returns the process's exit code.
func runChild() int {
	err := func() error {
		if os.Getenv(envChild) == echoServerChild {
			return runEchoServer()
		}
		n, err1 := strconv.Atoi(os.Getenv(envCalls))
		callers, err2 := strconv.Atoi(os.Getenv(envCallers))
		if err1 != nil || err2 != nil {
			return fmt.Errorf("bad child settings: %v %v", err1, err2)
		}
		if os.Getenv(envChild) == echoChild {
			e, err := dialEcho(os.Getenv(envSock), callers, 32)
			if err != nil {
				return err
			}
			defer e.close()
			return measure.Child(n, callers, e.roundTrip)
		}
		o := findOp(os.Getenv(envChild))
		if o == nil {
			return fmt.Errorf("no op %q", os.Getenv(envChild))
		}
		items, _ := strconv.Atoi(os.Getenv(envItems))
		opts := client.Options{Client: "bench-child"}
		if items > 1 {
			opts.RingSize = bulkRing
		}
		c, err := client.Dial(ctx, os.Getenv(envSock), opts)
		if err != nil {
			return err
		}
		defer c.Close()
		cs, err := o.prep(c, os.Getenv(envKey))
		if err != nil {
			return err
		}
		if items > 1 {
			return measure.Child(n, callers, func(int) error { return cs.batch(c, items) })
		}
		return measure.Child(n, callers, func(int) error { return cs.one(c) })
	}()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench child:", err)
		return 1
	}
	return 0
}
