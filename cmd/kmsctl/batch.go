package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"
	"time"

	"github.com/jmespath/go-jmespath"

	"kmsd/cmd/kmsctl/internal/render"
	"kmsd/wire/api"
	"kmsd/wire/awsjson"
	"kmsd/wire/client"
)

// Batches from the shell: --batch-input FILE (- for standard input) makes
// encrypt, decrypt, re-encrypt, generate-data-key and
// generate-data-key-without-plaintext read their requests as JSON Lines,
// one request a line with AWS's field names (blobs base64), and print one
// result a line, in the order of the input: the answer (after --query),
// or {"Error":{"Code":..,"Message":..}}. Flags given beside it are the
// defaults of every line (--key-id alias/app, then lines of
// {"Plaintext":..}). The requests go to kmsd in batch frames of
// batchChunk items at a time, so a script does thousands a second in
// bounded memory.

// batchChunk is how many lines are read, sent and printed at a time.
const batchChunk = 4096

// maxBatchLine bounds one input line: a request with its largest blob
// and context, base64 and escaped, with room to spare.
const maxBatchLine = 256 << 10

// batchFailed is a batch in which some items failed: each failure is its
// line's result; the exit status says that some did.
type batchFailed struct{ failed, total int }

func (b batchFailed) Error() string {
	return fmt.Sprintf("%d of %d items failed (their lines say why)", b.failed, b.total)
}

// batchOps are the operations --batch-input takes: kmsd's batch
// operations that have a kmsctl command.
func batchOps() []string {
	var ops []string
	for _, op := range api.Ops() {
		if op.Batch {
			ops = append(ops, op.Name)
		}
	}
	return ops
}

// runBatch serves --batch-input for op, with defaults the request the
// command's flags made.
func runBatch(e *env, op string, defaults api.Message) error {
	spec := api.Lookup(op)
	if spec == nil || !spec.Batch {
		return usageError{fmt.Errorf("--batch-input: %s takes one request at a time; the commands that take batches are those of %s", op, strings.Join(batchOps(), ", "))}
	}
	if e.g.Output != "json" && e.g.Output != "text" {
		return usageError{fmt.Errorf("--batch-input prints a result a line: --output json (JSON Lines) or text, not %s", e.g.Output)}
	}
	var in io.Reader = os.Stdin
	if path := e.g.BatchInput; path != "-" {
		p, err := expandHome(path)
		if err == nil {
			var f *os.File
			f, err = os.Open(p)
			if err == nil {
				defer f.Close()
				in = f
			}
		}
		if err != nil {
			return usageError{fmt.Errorf("--batch-input: %w", err)}
		}
	}
	c, err := e.client()
	if err != nil {
		return err
	}
	hello, err := c.Hello(e.ctx)
	if err != nil {
		return err
	}
	r := bufio.NewReaderSize(in, 64<<10)
	w := bufio.NewWriterSize(e.stdout, 64<<10)
	defer w.Flush()
	show := newProgress(e)
	line, failed := 0, 0
	for {
		reqs, bad, eof, err := readBatchLines(r, spec, defaults, hello.Limits, line)
		if err != nil {
			return err
		}
		var sendable []api.Message
		for i, m := range reqs {
			if bad[i] == nil {
				sendable = append(sendable, m)
			}
		}
		var results []wireResult
		if len(sendable) > 0 {
			ctx, cancel := e.rpc()
			start := time.Now()
			rs, err := c.CallBatch(ctx, op, sendable)
			cancel()
			e.debugf("%s batch of %d answered in %v", op, len(sendable), time.Since(start).Round(time.Microsecond))
			if err != nil {
				return fmt.Errorf("after %d lines: %w", line, err)
			}
			for _, r := range rs {
				results = append(results, wireResult{out: r.Out, err: r.Err})
			}
		}
		k := 0
		for i := range reqs {
			var err error
			var out api.Message
			if bad[i] != nil {
				err = bad[i]
			} else {
				out, err = results[k].out, results[k].errOrNil()
				k++
			}
			if err != nil {
				failed++
			}
			if werr := writeBatchResult(w, e.g, out, err); werr != nil {
				return werr
			}
			wipe(reqs[i])
			wipe(out)
		}
		line += len(reqs)
		show(line, failed)
		if eof {
			break
		}
	}
	show(-line, failed)
	if failed > 0 {
		return batchFailed{failed, line}
	}
	return nil
}

// wireResult is one item's answer.
type wireResult struct {
	out api.Message
	err *api.Error
}

func (r wireResult) errOrNil() error {
	if r.err == nil {
		return nil
	}
	return r.err
}

// readBatchLines reads up to batchChunk lines, each a request of spec's
// input type on top of defaults; a line that is not one, or is over
// kmsd's limits, gets its error (ValidationException, naming the line)
// instead. eof says the input is done.
func readBatchLines(r *bufio.Reader, spec *api.OpSpec, defaults api.Message, limits api.Limits, before int) (reqs []api.Message, bad []error, eof bool, err error) {
	for len(reqs) < batchChunk {
		text, rerr := readLine(r)
		if rerr == io.EOF && text == nil {
			return reqs, bad, true, nil
		}
		if rerr != nil && rerr != io.EOF {
			return nil, nil, false, fmt.Errorf("--batch-input, line %d: %w", before+len(reqs)+1, rerr)
		}
		if len(bytes.TrimSpace(text)) == 0 && rerr == io.EOF {
			return reqs, bad, true, nil
		}
		in := spec.NewInput()
		merge(in, defaults)
		perr := parseBatchLine(text, in)
		clear(text)
		if perr == nil {
			perr = client.CheckLimits(limits, in)
		}
		if perr != nil {
			code, msg := api.CodeValidation, perr.Error()
			var ae *api.Error
			if errors.As(perr, &ae) {
				code, msg = ae.Code, ae.Message
			}
			perr = &api.Error{Code: code, Message: fmt.Sprintf("line %d: %s", before+len(reqs)+1, msg)}
		}
		reqs, bad = append(reqs, in), append(bad, perr)
		if rerr == io.EOF {
			return reqs, bad, true, nil
		}
	}
	return reqs, bad, false, nil
}

// readLine reads one line (without its newline), at most maxBatchLine
// bytes.
func readLine(r *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		part, err := r.ReadSlice('\n')
		if len(line)+len(part) > maxBatchLine {
			return nil, fmt.Errorf("a line over %d bytes", maxBatchLine)
		}
		line = append(line, part...)
		switch {
		case err == bufio.ErrBufferFull:
			continue
		case err != nil:
			if len(line) == 0 {
				return nil, err
			}
			return line, err
		}
		return bytes.TrimRight(line, "\r\n"), nil
	}
}

// parseBatchLine reads one line's request: a JSON object with the
// operation's AWS field names, text only (see awsjson.CheckText).
func parseBatchLine(text []byte, in api.Message) error {
	if err := awsjson.CheckText(text); err != nil {
		return err
	}
	d := json.NewDecoder(bytes.NewReader(text))
	d.DisallowUnknownFields()
	if err := d.Decode(in); err != nil {
		return fmt.Errorf("not a request: %w", err)
	}
	if d.More() {
		return errors.New("more than one JSON value on the line")
	}
	return nil
}

// merge fills the fields of in that its line left empty from defaults
// (the command's flags).
func merge(in, defaults api.Message) {
	iv, dv := reflect.ValueOf(in).Elem(), reflect.ValueOf(defaults).Elem()
	for i := range iv.NumField() {
		if f := iv.Field(i); f.CanSet() && f.IsZero() && !dv.Field(i).IsZero() {
			f.Set(dv.Field(i))
		}
	}
}

// wipe zeroes the plaintexts of a request or an answer once printed.
func wipe(m api.Message) {
	if m == nil || reflect.ValueOf(m).IsNil() {
		return
	}
	if f := reflect.ValueOf(m).Elem().FieldByName("Plaintext"); f.IsValid() && f.Kind() == reflect.Slice {
		clear(f.Bytes())
	}
}

// writeBatchResult writes one line: the answer, after --query, as JSON or
// text, or the item's error.
func writeBatchResult(w io.Writer, g *globals, out api.Message, err error) error {
	var tree any
	if err != nil {
		code, msg := api.CodeInternal, err.Error()
		var ae *api.Error
		if errors.As(err, &ae) {
			code, msg = ae.Code, ae.Message
		}
		tree = &object{Keys: []string{"Error"}, Vals: map[string]any{"Error": &object{Keys: []string{"Code", "Message"}, Vals: map[string]any{"Code": code, "Message": msg}}}}
	} else {
		tree = toTree(reflect.ValueOf(out))
		if g.Query != "" {
			data, qerr := jmespath.Search(g.Query, plain(tree))
			if qerr != nil {
				return usageError{fmt.Errorf("--query: %w", qerr)}
			}
			tree = data
		}
	}
	var b bytes.Buffer
	if g.Output == "text" && err == nil {
		render.Text(&b, render.Normalize(plain(tree)))
		if b.Len() == 0 || b.Bytes()[b.Len()-1] != '\n' {
			b.WriteByte('\n')
		}
	} else {
		render.JSONLine(&b, tree)
		b.WriteByte('\n')
	}
	_, werr := w.Write(b.Bytes())
	clear(b.Bytes())
	return werr
}

// newProgress returns what shows a long batch's progress on a terminal:
// on standard error, when it is one and standard output is not (the
// results go elsewhere), at most ten times a second; done < 0 ends it,
// with the totals (-done items).
func newProgress(e *env) func(done, failed int) {
	if !isTerminal(e.stderr) || isTerminal(e.stdout) {
		return func(int, int) {}
	}
	start, last := time.Now(), time.Time{}
	return func(done, failed int) {
		now := time.Now()
		end := done < 0
		if end {
			done = -done
		} else if now.Sub(last) < 100*time.Millisecond {
			return
		}
		last = now
		rate := float64(done) / max(now.Sub(start).Seconds(), 1e-3)
		fmt.Fprintf(e.stderr, "\rkmsctl: %d items, %d failed, %.0f/s", done, failed, rate)
		if end {
			fmt.Fprintln(e.stderr) // the last line stays, with the totals
		}
	}
}
