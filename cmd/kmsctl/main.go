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
	"time"

	"github.com/alecthomas/kong"

	"kmsd/wire"
)

// Exit codes, as the AWS CLI uses them.
const (
	exitServiceError = 254 // kmsd answered with an error
	exitOtherError   = 255 // kmsd could not be reached, or another failure
	exitUsage        = 252 // the command line is wrong
)

type globals struct {
	Socket  string        `help:"kmsd's socket." default:"kmsd.sock" env:"KMSD_SOCKET"`
	Output  string        `help:"Output format: json or text." default:"json" enum:"json,text"`
	Query   string        `help:"JMESPath query applied to the response."`
	Timeout time.Duration `help:"How long to wait for kmsd." default:"30s"`
}

type cli struct {
	globals
	commands
}

// usageError marks a mistake on the command line.
type usageError struct{ error }

// env is what a command runs with.
type env struct {
	op     string // the operation, from the subcommand
	ctx    context.Context
	g      *globals
	client *wire.Client
	stdout io.Writer
}

// runner is implemented by every command.
type runner interface {
	run(e *env) error
}

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// run is kmsctl with its arguments and output streams; it returns the exit
// code.
func run(args []string, stdout, stderr io.Writer) int {
	var c cli
	parser, err := kong.New(&c, kong.Name("kmsctl"),
		kong.Description("kmsctl: the kmsd command line, with the subcommands and flags of `aws kms`."),
		kong.Writers(stdout, stderr), kong.Exit(func(int) {}), kong.UsageOnError())
	if err != nil {
		fmt.Fprintln(stderr, "kmsctl:", err)
		return exitOtherError
	}
	kctx, err := parser.Parse(args)
	if err != nil {
		var pe *kong.ParseError
		if errors.As(err, &pe) || len(args) == 0 {
			fmt.Fprintln(stderr, "kmsctl: error:", err)
			return exitUsage
		}
		fmt.Fprintln(stderr, "kmsctl: error:", err)
		return exitUsage
	}
	if kctx.Command() == "" || len(kctx.Path) < 2 {
		return 0 // --help was printed
	}
	cmd, ok := kctx.Selected().Target.Addr().Interface().(runner)
	if !ok {
		return 0
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.Timeout)
	defer cancel()
	client, err := wire.Dial(ctx, c.Socket, wire.Options{Client: "kmsctl", MaxCoalesce: 1})
	if err != nil {
		fmt.Fprintf(stderr, "kmsctl: cannot reach kmsd at %s: %v\n", c.Socket, err)
		return exitOtherError
	}
	defer client.Close()
	err = cmd.run(&env{op: opName(kctx.Command()), ctx: ctx, g: &c.globals, client: client, stdout: stdout})
	var we *wire.Error
	var ue usageError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &we):
		fmt.Fprintf(stderr, "\nAn error occurred (%s) when calling the %s operation: %s\n", we.Code, opName(kctx.Command()), we.Message)
		return exitServiceError
	case errors.As(err, &ue):
		fmt.Fprintln(stderr, "kmsctl: error:", ue.error)
		return exitUsage
	default:
		fmt.Fprintln(stderr, "kmsctl:", err)
		return exitOtherError
	}
}
