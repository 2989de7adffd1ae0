package main

import (
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"kmsd/daemon/audit"
	"kmsd/wire/api"
	"kmsd/wire/client"
)

// auditCmd reads the trail's files directly (its directory is readable by
// root and kmsd's user only) and asks kmsd for what only it can check.
type auditCmd struct {
	Verify auditVerifyCmd `cmd:"" help:"Check the audit trail: chain, order, checkpoint MACs, and that nothing was cut off."`
	Query  auditQueryCmd  `cmd:"" help:"Print the records that match, as JSON Lines."`
}

type auditFiles struct {
	AuditDir string   `help:"The trail's directory (default: ask kmsd)."`
	Files    []string `arg:"" optional:"" help:"Trail files, in order (default: every file in the directory)."`
}

// files returns the files to read.
func (a *auditFiles) files(e *env) ([]string, error) {
	if len(a.Files) > 0 {
		return a.Files, nil
	}
	dir := a.AuditDir
	if dir == "" {
		c, err := e.client()
		if err != nil {
			return nil, err
		}
		out, err := c.VerifyAuditCheckpoints(e.ctx, &api.VerifyAuditCheckpointsInput{})
		if err != nil {
			return nil, err
		}
		dir = out.AuditDir
	}
	files, err := audit.Files(dir)
	if err == nil && len(files) == 0 {
		err = fmt.Errorf("no audit files in %s", dir)
	}
	return files, err
}

type auditVerifyCmd struct {
	auditFiles
}

// trailBroken is the result of a verification that found a fault.
type trailBroken struct{ error }

// macChunk is how many checkpoints one request carries.
const macChunk = 10_000

// verifyReport is what audit verify prints.
type verifyReport struct {
	Status                      string // OK, BROKEN (the chain), or GAP (records known lost)
	Files, Records, Checkpoints int
	FirstSeq, LastSeq           uint64
	LastCheckpoint              uint64
	CheckpointMACsChecked       bool
	Problem                     string   `json:",omitempty"`
	Gaps                        []string `json:",omitempty"`
	// KmsdHeadSeq is how far kmsd's trail goes, when the files verified
	// are not kmsd's own (a copy): not a fault.
	KmsdHeadSeq uint64 `json:",omitempty"`
}

// run reads the files once, at the disk's pace (progress on a terminal),
// checking lines, seq, the chain and file boundaries and collecting the
// checkpoints, then has kmsd check their MACs and tell its saved head and
// the gaps it knows of. Only the calls to kmsd are bounded by --timeout.
func (c *auditVerifyCmd) run(e *env) error {
	cl, cerr := e.client()
	var head *api.VerifyAuditCheckpointsOutput
	if cerr == nil {
		// Have kmsd seal what it has written under a checkpoint first, so
		// that the records up to now are covered by a MAC.
		ctx, cancel := e.rpc()
		h, err := cl.VerifyAuditCheckpoints(ctx, &api.VerifyAuditCheckpointsInput{})
		cancel()
		if err != nil {
			return err
		}
		head = h
	}
	files, err := c.files(e)
	if err != nil {
		return err
	}
	opts := audit.VerifyOptions{Collect: true, Progress: progress(e, files)}
	own := head != nil && sameDir(head.AuditDir, filepath.Dir(files[0]))
	if own {
		if h, err := hex.DecodeString(head.HeadHash); err == nil && len(h) == 32 && head.HeadSeq > 0 {
			opts.HeadSeq, opts.HeadHash = uint64(head.HeadSeq), [32]byte(h)
		}
	}
	if head != nil {
		if h, err := hex.DecodeString(head.RetiredHash); err == nil && len(h) == 32 && head.RetiredSeq > 0 {
			opts.RetiredSeq, opts.RetiredHash = uint64(head.RetiredSeq), [32]byte(h)
		}
	}
	r, err := audit.Verify(files, opts)
	if err != nil {
		return err
	}
	if opts.Progress != nil {
		fmt.Fprintln(e.stderr)
	}
	if cerr == nil {
		if err := checkMACs(e, cl, r); err != nil {
			return err
		}
	}
	out := verifyReport{Status: "OK", Files: r.Files, Records: r.Records, Checkpoints: r.Checkpoints, FirstSeq: r.FirstSeq,
		LastSeq: r.LastSeq, LastCheckpoint: r.LastCheckpoint, CheckpointMACsChecked: cerr == nil, Gaps: r.Gaps}
	if head != nil {
		out.Gaps = mergeGaps(out.Gaps, head.Gaps)
		if !own {
			out.KmsdHeadSeq = uint64(head.HeadSeq)
		}
	}
	switch {
	case r.Problem != nil:
		out.Status, out.Problem = "BROKEN", r.Problem.String()
	case len(out.Gaps) > 0:
		out.Status = "GAP"
	}
	if err := show(e.stdout, e.g, out); err != nil {
		return err
	}
	switch {
	case r.Problem != nil:
		return trailBroken{errors.New("the audit trail is broken at " + r.Problem.String())}
	case len(out.Gaps) > 0:
		return trailBroken{fmt.Errorf("the audit trail has lost records: %s", strings.Join(out.Gaps, "; "))}
	case cerr != nil:
		return fmt.Errorf("the chain is intact, but checkpoint MACs were not checked: %w", cerr)
	}
	return nil
}

// checkMACs has kmsd check the checkpoints Verify collected, which only it
// can; a wrong MAC before the first fault Verify found becomes the fault.
func checkMACs(e *env, cl *client.Client, r *audit.Report) error {
	cps := r.CheckpointRecords
	for start := 0; start < len(cps); start += macChunk {
		in := &api.VerifyAuditCheckpointsInput{}
		for _, cp := range cps[start:min(len(cps), start+macChunk)] {
			in.Checkpoints = append(in.Checkpoints, api.AuditCheckpoint{Seq: int64(cp.Seq), Prev: hex.EncodeToString(cp.Prev[:]), Mac: hex.EncodeToString(cp.MAC)})
		}
		ctx, cancel := e.rpc()
		out, err := cl.VerifyAuditCheckpoints(ctx, in)
		cancel()
		if err != nil {
			return err
		}
		if out.FirstInvalid >= 0 {
			seq := cps[start+int(out.FirstInvalid)].Seq
			if r.Problem == nil || seq <= r.Problem.Seq {
				r.Problem = &audit.Problem{Seq: seq, Reason: "checkpoint MAC is wrong: the trail up to here was rewritten"}
				r.LastSeq = seq - 1
			}
			return nil
		}
	}
	r.MACsChecked = true
	return nil
}

// mergeGaps is the gaps the trail tells of and those kmsd keeps (each
// told once: kmsd keeps them with the time it found them).
func mergeGaps(inTrail, kept []string) []string {
	out := slices.Clone(inTrail)
	for _, k := range kept {
		seen := false
		for _, g := range inTrail {
			if _, what, ok := strings.Cut(k, ": "); ok && strings.HasSuffix(g, what) {
				seen = true
			}
		}
		if !seen {
			out = append(out, k)
		}
	}
	return out
}

// sameDir reports whether a and b are one directory.
func sameDir(a, b string) bool {
	sa, err1 := os.Stat(a)
	sb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(sa, sb)
}

// progress is a Verify progress report on a terminal (stderr), or nil.
func progress(e *env, files []string) func(int64) {
	if !isTerminal(e.stderr) {
		return nil
	}
	var total int64
	for _, name := range files {
		if st, err := os.Stat(name); err == nil {
			total += st.Size()
		}
	}
	return func(n int64) {
		fmt.Fprintf(e.stderr, "\rverifying: %d of %d MiB", n>>20, total>>20)
	}
}

type auditQueryCmd struct {
	auditFiles
	KeyID     string `name:"key-id" help:"Records of this key: a key id, or an alias or ARN, which kmsd resolves (its records name the alias, the key's name the key)."`
	Principal string `help:"Records of this caller: uid:N or unit:NAME."`
	Operation string `help:"Records of this operation, e.g. Decrypt."`
	Result    string `help:"success, error, or an exception name."`
	Since     string `help:"From this time (RFC 3339), inclusive."`
	Until     string `help:"Until this time (RFC 3339), exclusive."`
}

func (c *auditQueryCmd) run(e *env) error {
	f := audit.Filter{KeyID: c.KeyID, Principal: c.Principal, Operation: c.Operation, Result: c.Result}
	for _, t := range []struct {
		flag, v string
		dst     *time.Time
	}{{"since", c.Since, &f.Since}, {"until", c.Until, &f.Until}} {
		if t.v == "" {
			continue
		}
		v, err := time.Parse(time.RFC3339, t.v)
		if err != nil {
			return usageError{fmt.Errorf("--%s: %w", t.flag, err)}
		}
		*t.dst = v
	}
	files, err := c.files(e)
	if err != nil {
		return err
	}
	if strings.HasPrefix(c.KeyID, "alias/") || strings.HasPrefix(c.KeyID, "arn:") {
		// Unresolved (kmsd not reachable, the alias gone), the records that
		// name it still match.
		if id, err := resolveKey(e, c.KeyID); err != nil {
			fmt.Fprintf(e.stderr, "kmsctl: note: %v; showing only the records that name %s\n", err, c.KeyID)
		} else {
			f.AlsoKeyIDs = []string{id}
		}
	}
	return audit.Query(files, f, func(line []byte) error {
		_, err := fmt.Fprintf(e.stdout, "%s\n", line)
		return err
	})
}

// resolveKey asks kmsd which key an alias or ARN names now.
func resolveKey(e *env, name string) (string, error) {
	c, err := e.client()
	if err == nil {
		var out *api.KeyMetadataOutput
		if out, err = c.DescribeKey(e.ctx, &api.DescribeKeyInput{KeyId: name}); err == nil {
			return out.KeyMetadata.KeyId, nil
		}
	}
	return "", fmt.Errorf("kmsd could not resolve %s (%v)", name, err)
}
