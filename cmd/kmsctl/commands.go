package main

import (
	"errors"
	"strings"
	"time"

	"kmsd/wire/api"
)

// commands lists every subcommand, named as in `aws kms`: one per
// operation of the table (opCommands, generated from it), and kmsctl's
// own reading of the audit trail.
type commands struct {
	opCommands `embed:""`
	Audit      auditCmd `cmd:"" help:"Read and verify the audit trail."`
}

// opName turns a subcommand into its operation: create-key -> CreateKey.
func opName(command string) string {
	command, _, _ = strings.Cut(command, " ")
	var b strings.Builder
	for _, w := range strings.Split(command, "-") {
		if w != "" {
			b.WriteString(strings.ToUpper(w[:1]) + w[1:])
		}
	}
	return b.String()
}

// call runs op with in and prints its response.
func call(e *env, op string, in api.Message) error {
	if e.g.BatchInput != "" {
		return runBatch(e, op, in)
	}
	c, err := e.client()
	if err != nil {
		return err
	}
	start := time.Now()
	out, err := c.Call(e.ctx, op, in)
	e.debugf("%s answered in %v: %s", op, time.Since(start).Round(time.Microsecond), outcome(err))
	if err != nil {
		return err
	}
	return show(e.stdout, e.g, out)
}

// outcome is how --debug names a call's result: OK or its error code.
func outcome(err error) string {
	var we *api.Error
	switch {
	case err == nil:
		return "OK"
	case errors.As(err, &we):
		return we.Code
	}
	return err.Error()
}

type statusCmd struct {
	Wait bool `help:"Wait for kmsd to answer (up to --timeout) instead of failing at once: how a script knows that a kmsd it just started serves."`
}

func (c statusCmd) run(e *env) error {
	if c.Wait {
		if err := e.waitForKmsd(); err != nil {
			return err
		}
	}
	cl, err := e.client()
	if err != nil {
		return err
	}
	out, err := cl.Status(e.ctx, &api.StatusInput{})
	if err != nil {
		return err
	}
	if e.g.Output == "text" && e.g.Query == "" {
		return showLabelled(e.stdout, out)
	}
	return show(e.stdout, e.g, out)
}

// waitForKmsd dials until kmsd answers or the command's time is up.
func (e *env) waitForKmsd() error {
	for {
		c, err := e.dial()
		if err == nil {
			e.c = c
			return nil
		}
		select {
		case <-e.ctx.Done():
			return err
		case <-time.After(20 * time.Millisecond):
		}
	}
}
