package measure

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"slices"
	"sync"
	"testing"
	"time"
)

// RunProcs measures calls made by procs separate processes, as a host's
// programs make them: start returns the command of process p (0 <= p <
// procs), to make calls calls; it must run Child. Every process connects
// and says it is ready before the clock starts, and all start together.
// It reports what Run reports, client-cores being the processes' CPU time
// together.
func RunProcs(b *testing.B, s Spec, procs int, start func(p, calls int) *exec.Cmd) {
	items := max(1, s.Items)
	b.SetBytes(int64(s.Bytes * items))
	cmds := make([]*exec.Cmd, procs)
	outs := make([]*bufio.Reader, procs)
	gos := make([]io.WriteCloser, procs)
	defer func() {
		for _, c := range cmds {
			if c != nil && c.ProcessState == nil {
				c.Process.Kill()
				c.Wait()
			}
		}
	}()
	for p := range procs {
		calls := b.N / procs
		if p < b.N%procs {
			calls++
		}
		c := start(p, calls)
		c.Stderr = os.Stderr
		out, err1 := c.StdoutPipe()
		in, err2 := c.StdinPipe()
		if err := c.Start(); err1 != nil || err2 != nil || err != nil {
			b.Fatalf("starting process %d: %v %v %v", p, err1, err2, err)
		}
		cmds[p], outs[p], gos[p] = c, bufio.NewReader(out), in
		if line, err := outs[p].ReadString('\n'); err != nil || line != "ready\n" {
			b.Fatalf("process %d did not get ready: %q %v", p, line, err)
		}
	}
	if s.PID != 0 {
		ResetPeakRSS(s.PID)
	}
	cpu0, allocs0 := CPUTime(s.PID), s.allocs()
	b.ResetTimer()
	for _, in := range gos {
		in.Close() // the start signal
	}
	lat := make([][]time.Duration, procs)
	errs := make([]error, procs)
	var wg sync.WaitGroup
	for p := range procs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lat[p], errs[p] = readLatencies(outs[p])
		}()
	}
	wg.Wait()
	b.StopTimer()
	elapsed := b.Elapsed()
	var clientCPU time.Duration
	for p, c := range cmds {
		if err := c.Wait(); err != nil || errs[p] != nil {
			b.Fatalf("process %d: %v %v", p, err, errs[p])
		}
		clientCPU += c.ProcessState.UserTime() + c.ProcessState.SystemTime()
	}
	report(b, s, slices.Concat(lat...), elapsed, clientCPU, cpu0, allocs0)
}

// Child is the process side of RunProcs: it says it is ready, waits for
// the start (its standard input closing), makes calls calls with callers
// goroutines as Run does, and writes their latencies to standard output.
func Child(calls, callers int, call func(w int) error) error {
	if _, err := os.Stdout.WriteString("ready\n"); err != nil {
		return err
	}
	io.Copy(io.Discard, os.Stdin)
	lat, err := callLoop(calls, max(1, callers), false, call)
	if err != nil {
		return err
	}
	all := slices.Concat(lat...)
	w := bufio.NewWriter(os.Stdout)
	binary.Write(w, binary.LittleEndian, uint32(len(all)))
	for _, d := range all {
		binary.Write(w, binary.LittleEndian, uint32(min(d.Nanoseconds(), math.MaxUint32)))
	}
	return w.Flush()
}

// readLatencies reads what Child wrote (a count, then as many
// nanoseconds, as little-endian uint32s), and ignores what follows it
// (a test binary's own last words).
func readLatencies(r io.Reader) ([]time.Duration, error) {
	var n uint32
	if err := binary.Read(r, binary.LittleEndian, &n); err != nil {
		return nil, fmt.Errorf("latencies: %w", err)
	}
	ns := make([]uint32, min(n, 1<<26))
	if err := binary.Read(r, binary.LittleEndian, ns); err != nil {
		return nil, fmt.Errorf("latencies: %w", err)
	}
	io.Copy(io.Discard, r)
	l := make([]time.Duration, len(ns))
	for i, v := range ns {
		l[i] = time.Duration(v)
	}
	return l, nil
}
