// Command kmsctl drives kmsd the way the AWS CLI drives AWS KMS: the same
// subcommand and flag names, blob parameters as fileb://PATH or base64,
// JSON output with AWS field names, --query (JMESPath) and --output text.
// See docs/cli.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/alecthomas/kong"

	"kmsd/internal/version"
	"kmsd/wire/api"
	"kmsd/wire/client"
)

// Exit codes, as the AWS CLI uses them.
const (
	exitServiceError = 254 // kmsd answered with an error
	exitOtherError   = 255 // kmsd could not be reached, or another failure
	exitUsage        = 252 // the command line is wrong
	exitBroken       = 1   // audit verify: the trail is not intact
)

type globals struct {
	Version kong.VersionFlag `help:"Print kmsctl's version and exit." group:"global"`
	Socket  string           `help:"kmsd's socket (default: $KMSD_SOCKET, else /run/kmsd/api.sock if it exists, else ./kmsd.sock)." group:"global"`
	Output  string           `help:"Output format: json, text, yaml or table." default:"json" enum:"json,text,yaml,table" env:"AWS_DEFAULT_OUTPUT" group:"global"`
	Query   string           `help:"JMESPath query applied to the response." group:"global"`
	Timeout time.Duration    `help:"How long to wait for kmsd." default:"30s" group:"global"`
	// ServerUID are the users kmsd may run as (client.Options.ServerUIDs).
	op        string   // the command's operation, for --output table's title
	ServerUID []uint32 `name:"server-uid" help:"The users kmsd may run as (default: root and your own uid): kmsctl hangs up, before sending anything, on a socket served by anyone else." env:"KMSD_SERVER_UIDS" group:"global"`
	// As the aws CLI's: pagination, and how blob arguments are read.
	NoPaginate          bool   `name:"no-paginate" help:"List commands: one request only, answered as kmsd answers it (NextMarker, Truncated); --limit and --marker pick the page." group:"global"`
	CliBinaryFormat     string `name:"cli-binary-format" help:"How a blob argument that is not fileb:// is read: base64 (the default) or raw-in-base64-out (its text, as bytes)." default:"base64" enum:"base64,raw-in-base64-out" group:"global"`
	CliInputJSON        string `name:"cli-input-json" help:"The request as JSON (or file://PATH), with AWS's field names; flags given beside it win." group:"global"`
	GenerateCliSkeleton string `name:"generate-cli-skeleton" help:"Print the command's request as JSON with empty values, for --cli-input-json (input, the default), or a sample of its answer (output), and exit." group:"global"`
	BatchInput          string `name:"batch-input" help:"encrypt, decrypt, re-encrypt, generate-data-key(-without-plaintext): read many requests, one JSON object a line with AWS's field names, from this file (- for standard input), and print one result a line in order (JSON Lines), sent to kmsd in batches; the command's flags are every line's defaults." group:"global"`
	Debug               bool   `help:"Say on stderr what kmsctl does: the socket, kmsd's Hello, each request and how long it took (never its blobs or contexts)." group:"global"`
	CliReadTimeout      *int   `name:"cli-read-timeout" help:"The longest wait, in seconds, for kmsd's answer to a request (0: no limit); overrides --timeout for the answers, as the aws CLI's." group:"global"`
	CliConnectTimeout   *int   `name:"cli-connect-timeout" help:"The longest wait, in seconds, to connect to kmsd and exchange Hello (0: no limit; default 5)." group:"global"`
	Color               string `help:"on, off or auto: accepted; kmsctl prints no colour." default:"auto" enum:"on,off,auto" group:"global"`
	// Accepted, and meaningless on one host.
	NoSignRequest bool   `name:"no-sign-request" help:"Accepted: on the socket nothing is signed; kmsd knows the caller from the kernel." group:"global"`
	Region        string `help:"Accepted and ignored: kmsd serves one host (its ARNs' region is kmsd --region)." group:"global"`
	Profile       string `help:"Accepted and ignored: kmsctl has no profiles; callers are who the kernel says." group:"global"`
	EndpointURL   string `name:"endpoint-url" help:"Accepted and ignored: kmsctl speaks to kmsd's socket (--socket)." group:"global"`
	NoCliPager    bool   `name:"no-cli-pager" help:"Accepted: kmsctl never pages." group:"global"`
}

type cli struct {
	globals
	commands
}

// usageError marks a mistake on the command line.
type usageError struct{ error }

// env is what a command runs with.
type env struct {
	op      string // the operation, from the subcommand
	ctx     context.Context
	timeout time.Duration // --timeout: ctx's, and each rpc's
	g       *globals
	stdout  io.Writer
	stderr  io.Writer
	debug   io.Writer // --debug: stderr, else nil
	dial    func() (*client.Client, error)
	c       *client.Client
}

// rpc is a context for one call to kmsd, bounded by --timeout from now:
// for commands whose own work (reading an audit trail) may take longer
// than the timeout, which bounds only the waits for kmsd.
func (e *env) rpc() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), e.timeout)
}

// client connects to kmsd on first use: commands that only read files
// (audit query) never need it.
func (e *env) client() (*client.Client, error) {
	if e.c == nil {
		c, err := e.dial()
		if err != nil {
			return nil, err
		}
		e.c = c
	}
	return e.c, nil
}

// debugf writes a --debug line to stderr.
func (e *env) debugf(format string, args ...any) {
	if e.debug != nil {
		fmt.Fprintf(e.debug, "kmsctl: debug: "+format+"\n", args...)
	}
}

// seconds is a timeout flag of the aws CLI: n seconds, 0 for no limit.
func seconds(n int) time.Duration {
	if n <= 0 {
		return 100 * 365 * 24 * time.Hour
	}
	return time.Duration(n) * time.Second
}

// helpWord reads the aws CLI's help word: "kmsctl help" and "kmsctl
// encrypt help" (help after the command's words, before any flag) are
// --help.
func helpWord(args []string) []string {
	if len(args) == 0 || args[len(args)-1] != "help" {
		return args
	}
	for _, a := range args[:len(args)-1] {
		if strings.HasPrefix(a, "-") {
			return args
		}
	}
	return append(slices.Clip(args[:len(args)-1]), "--help")
}

// unreachable marks a failure to connect to kmsd.
type unreachable struct{ error }

// runner is implemented by every command.
type runner interface {
	run(e *env) error
}

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// run is kmsctl with its arguments and output streams; it returns the exit
// code.
func run(args []string, stdout, stderr io.Writer) int {
	var c cli
	exited := -1 // kong's exit (after --help), kept so that run returns
	parser, err := kong.New(&c, kong.Name("kmsctl"), kong.Vars{"version": "kmsctl " + version.String()},
		kong.Description("kmsctl: the kmsd command line, with the subcommands and flags of `aws kms`."),
		kong.Writers(stdout, stderr), kong.Exit(func(code int) { exited = code }), kong.UsageOnError(),
		kong.ExplicitGroups([]kong.Group{{Key: "global", Title: "Global options (as the aws CLI's):"}}))
	if err != nil {
		fmt.Fprintln(stderr, "kmsctl:", err)
		return exitOtherError
	}
	// The command line is text: the parser would read bytes that are not
	// UTF-8 as U+FFFD, so that two different contexts (or names) became
	// one. Bytes go in files, as fileb://PATH.
	for i, a := range args {
		if !utf8.ValidString(a) {
			fmt.Fprintf(stderr, "kmsctl: error: argument %d is not valid UTF-8: arguments are text (give bytes as fileb://PATH)\n", i+1)
			return exitUsage
		}
	}
	args = helpWord(args)
	args, err = cliArgs(parser, args, stdout)
	if err != nil {
		if errors.Is(err, errSkeletonPrinted) {
			return 0
		}
		fmt.Fprintln(stderr, "kmsctl: error:", err)
		return exitUsage
	}
	kctx, err := parser.Parse(expandLists(args))
	switch {
	case exited >= 0:
		return exited // --help was printed: nothing runs
	case err != nil:
		fmt.Fprintln(stderr, "kmsctl: error:", err)
		return exitUsage
	case kctx.Command() == "" || len(kctx.Path) < 2:
		return 0
	}
	cmd, ok := kctx.Selected().Target.Addr().Interface().(runner)
	if !ok {
		return 0
	}
	if c.Socket == "" {
		c.Socket = client.DefaultSocket()
	}
	rawBlobs = c.CliBinaryFormat == "raw-in-base64-out"
	c.op = opName(kctx.Command())
	timeout, connect := c.Timeout, 5*time.Second
	if c.CliReadTimeout != nil {
		timeout = seconds(*c.CliReadTimeout)
	}
	if c.CliConnectTimeout != nil {
		connect = seconds(*c.CliConnectTimeout)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	e := &env{op: opName(kctx.Command()), ctx: ctx, timeout: timeout, g: &c.globals, stdout: stdout, stderr: stderr}
	if c.Debug {
		e.debug = stderr
	}
	e.dial = func() (*client.Client, error) {
		start := time.Now()
		e.debugf("connecting to %s (Hello within %v)", c.Socket, connect)
		cl, err := client.Dial(ctx, c.Socket, client.Options{Client: "kmsctl", MaxCoalesce: 1, ServerUIDs: c.ServerUID, DialTimeout: connect})
		if err != nil {
			return nil, unreachable{fmt.Errorf("cannot reach kmsd at %s: %v", c.Socket, err)}
		}
		if h, err := cl.Hello(ctx); err == nil {
			e.debugf("connected in %v: kmsd %s, protocol %d, limits %+v", time.Since(start).Round(time.Microsecond), h.ServerVersion, h.ProtocolVersion, h.Limits)
		}
		return cl, nil
	}
	err = cmd.run(e)
	if e.c != nil {
		e.c.Close()
	}
	return report(stderr, e.op, err)
}

// report prints what went wrong, as the AWS CLI prints it, and returns
// the exit code.
func report(stderr io.Writer, op string, err error) int {
	var we *api.Error
	var ue usageError
	var broken trailBroken
	var failed batchFailed
	var te tableError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &failed):
		fmt.Fprintln(stderr, "kmsctl:", failed)
		return exitServiceError
	case errors.As(err, &broken):
		fmt.Fprintln(stderr, "kmsctl:", broken.error)
		return exitBroken
	case errors.As(err, &we):
		fmt.Fprintf(stderr, "\nAn error occurred (%s) when calling the %s operation: %s\n", we.Code, op, we.Message)
		return exitServiceError
	case errors.As(err, &ue):
		fmt.Fprintln(stderr, "kmsctl: error:", ue.error)
		return exitUsage
	case errors.As(err, &te):
		_, msg, _ := strings.Cut(te.Error(), ": ")
		fmt.Fprintf(stderr, "\n%s\n", msg)
		return exitOtherError
	default:
		fmt.Fprintln(stderr, "kmsctl:", err)
		return exitOtherError
	}
}

// expandLists rewrites "--flag a b" as "--flag a --flag b" for listFlags.
func expandLists(args []string) []string {
	out := make([]string, 0, len(args))
	list := ""
	for _, a := range args {
		switch {
		case strings.HasPrefix(a, "--"):
			list = ""
			if listFlags[a] {
				list = a
			}
			out = append(out, a)
		case list != "" && len(out) > 0 && out[len(out)-1] != list:
			out = append(out, list, a)
		default:
			out = append(out, a)
		}
	}
	return out
}
