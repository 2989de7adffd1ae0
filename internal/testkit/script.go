package testkit

import (
	"bytes"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/rogpeppe/go-internal/testscript"
)

// ScriptCommands are the commands kmsctl's transcripts use, for
// testscript.Params.Cmds, with binaries from [Binaries]:
//
//	kmsd [flags]       start kmsd in the script's directory, ready when it
//	                   says so; KMSD_SOCKET points at it; it stops at the end
//	kmsctl args...     run kmsctl; stdout and stderr as for exec; it must
//	                   succeed, or with ! fail
//	exit N             the last kmsctl exited with code N
//	capture NAME       set $NAME to the last command's stdout, trimmed
//	bytes NAME N       write a file of N bytes ('a's), for limits
//	silent-socket NAME listen on a Unix socket that accepts connections and
//	                   never answers (until the script ends)
func ScriptCommands(kmsd, kmsctl string) map[string]func(ts *testscript.TestScript, neg bool, args []string) {
	return map[string]func(*testscript.TestScript, bool, []string){
		"kmsd": func(ts *testscript.TestScript, neg bool, args []string) {
			if neg {
				ts.Fatalf("unsupported: ! kmsd")
			}
			dir := ts.MkAbs(".")
			d, err := StartProcess(kmsd, Config{Dir: dir, Args: args})
			if err != nil {
				ts.Fatalf("%v", err)
			}
			ts.Defer(d.Kill)
			ts.Setenv("KMSD_SOCKET", d.Sock)
		},
		"kmsctl": func(ts *testscript.TestScript, neg bool, args []string) {
			cmd := exec.Command(kmsctl, args...)
			cmd.Dir = ts.MkAbs(".")
			cmd.Env = scriptEnv(ts)
			cmd.Stdout, cmd.Stderr = ts.Stdout(), ts.Stderr()
			err := cmd.Run()
			code := 0
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				code = ee.ExitCode()
			} else if err != nil {
				ts.Fatalf("kmsctl: %v", err)
			}
			ts.Setenv("KMSCTL_EXIT", strconv.Itoa(code))
			switch {
			case neg && code == 0:
				ts.Fatalf("kmsctl succeeded, want a failure")
			case !neg && code != 0:
				ts.Fatalf("kmsctl exited %d", code)
			}
		},
		"capture": func(ts *testscript.TestScript, neg bool, args []string) {
			if neg || len(args) != 1 {
				ts.Fatalf("usage: capture NAME")
			}
			ts.Setenv(args[0], strings.TrimSpace(ts.ReadFile("stdout")))
		},
		"bytes": func(ts *testscript.TestScript, neg bool, args []string) {
			n, err := strconv.Atoi(args[len(args)-1])
			if neg || len(args) != 2 || err != nil || n < 0 {
				ts.Fatalf("usage: bytes NAME N")
			}
			ts.Check(os.WriteFile(ts.MkAbs(args[0]), bytes.Repeat([]byte{'a'}, n), 0o600))
		},
		"silent-socket": func(ts *testscript.TestScript, neg bool, args []string) {
			if neg || len(args) != 1 {
				ts.Fatalf("usage: silent-socket NAME")
			}
			l, err := net.Listen("unix", ts.MkAbs(args[0]))
			ts.Check(err)
			var held []net.Conn
			var mu sync.Mutex
			go func() {
				for {
					c, err := l.Accept()
					if err != nil {
						return
					}
					mu.Lock()
					held = append(held, c)
					mu.Unlock()
				}
			}()
			ts.Defer(func() {
				l.Close()
				mu.Lock()
				for _, c := range held {
					c.Close()
				}
				mu.Unlock()
			})
		},
		"exit": func(ts *testscript.TestScript, neg bool, args []string) {
			if neg || len(args) != 1 {
				ts.Fatalf("usage: exit N")
			}
			if got := ts.Getenv("KMSCTL_EXIT"); got != args[0] {
				ts.Fatalf("kmsctl exited %s, want %s", got, args[0])
			}
		},
	}
}

// scriptEnv is the environment a script's commands see.
func scriptEnv(ts *testscript.TestScript) []string {
	var env []string
	for _, k := range []string{"PATH", "HOME", "TMPDIR", "KMSD_SOCKET", "WORK", "AWS_DEFAULT_OUTPUT"} {
		if v := ts.Getenv(k); v != "" {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// PathWith prepends dir to a PATH value.
func PathWith(dir, path string) string {
	return strings.Join([]string{dir, path}, string(filepath.ListSeparator))
}
