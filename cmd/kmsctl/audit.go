package main

import (
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"kmsd/daemon/audit"
	"kmsd/wire/api"
	"kmsd/wire/client"
)

type usageCmd struct {
	WindowMinutes *int32 `help:"1 to 60 (default 60)."`
}

func (c *usageCmd) run(e *env) error {
	return call(e, api.OpGetUsage, &api.GetUsageInput{WindowMinutes: c.WindowMinutes})
}

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

func (c *auditVerifyCmd) run(e *env) error {
	cl, cerr := e.client()
	if cerr == nil {
		// Have kmsd seal what it has written under a checkpoint first, so
		// that the records up to now are covered by a MAC.
		if _, err := cl.VerifyAuditCheckpoints(e.ctx, &api.VerifyAuditCheckpointsInput{}); err != nil {
			return err
		}
	}
	files, err := c.files(e)
	if err != nil {
		return err
	}
	cps, err := audit.ReadCheckpoints(files)
	if err != nil {
		return err
	}
	opts := audit.VerifyOptions{}
	if cerr == nil {
		if opts, err = checkMACs(e, cl, cps); err != nil {
			return err
		}
	}
	r, err := audit.Verify(files, opts)
	if err != nil {
		return err
	}
	out := struct {
		Status                      string
		Files, Records, Checkpoints int
		FirstSeq, LastSeq           uint64
		LastCheckpoint              uint64
		CheckpointMACsChecked       bool
		Problem                     string `json:",omitempty"`
	}{"OK", r.Files, r.Records, r.Checkpoints, r.FirstSeq, r.LastSeq, r.LastCheckpoint, r.MACsChecked, ""}
	if r.Problem != nil {
		out.Status, out.Problem = "BROKEN", r.Problem.String()
	}
	if err := show(e.stdout, e.g, out); err != nil {
		return err
	}
	switch {
	case r.Problem != nil:
		return trailBroken{errors.New("the audit trail is broken at " + r.Problem.String())}
	case cerr != nil:
		return fmt.Errorf("the chain is intact, but checkpoint MACs were not checked: %w", cerr)
	}
	return nil
}

// checkMACs has kmsd check the checkpoints' MACs, which only it can, and
// returns the options that tell Verify the answers and kmsd's last
// checkpoint.
func checkMACs(e *env, cl *client.Client, cps []audit.CheckpointRecord) (audit.VerifyOptions, error) {
	var opts audit.VerifyOptions
	bad := map[uint64]bool{}
	var head *api.VerifyAuditCheckpointsOutput
	for start := 0; start == 0 || start < len(cps); start += macChunk {
		in := &api.VerifyAuditCheckpointsInput{}
		for _, cp := range cps[start:min(len(cps), start+macChunk)] {
			in.Checkpoints = append(in.Checkpoints, api.AuditCheckpoint{Seq: int64(cp.Seq), Prev: hex.EncodeToString(cp.Prev[:]), Mac: hex.EncodeToString(cp.MAC)})
		}
		out, err := cl.VerifyAuditCheckpoints(e.ctx, in)
		if err != nil {
			return opts, err
		}
		if out.FirstInvalid >= 0 {
			bad[cps[start+int(out.FirstInvalid)].Seq] = true
		}
		head = out
	}
	opts.CheckMAC = func(seq uint64, _ [32]byte, _ []byte) bool { return !bad[seq] }
	if h, err := hex.DecodeString(head.HeadHash); err == nil && len(h) == 32 && head.HeadSeq > 0 {
		opts.HeadSeq, opts.HeadHash = uint64(head.HeadSeq), [32]byte(h)
	}
	return opts, nil
}

type auditQueryCmd struct {
	auditFiles
	KeyID     string `name:"key-id" help:"Records of this key (id or alias)."`
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
	return audit.Query(files, f, func(line []byte) error {
		_, err := fmt.Fprintf(e.stdout, "%s\n", line)
		return err
	})
}
