package main

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/mod/sumdb/note"

	"kmsd/daemon/audit"
	"kmsd/wire/api"
	"kmsd/wire/client"
)

type auditVerifyCmd struct {
	auditFiles
	PublicKey   string   `name:"public-key" placeholder:"FILE" help:"Check the signed checkpoints with this public key (a file holding what audit public-key printed), and ask kmsd nothing: for a copy of the trail on a machine without kmsd."`
	Checkpoints []string `placeholder:"DIR|FILE" help:"Checkpoints exported by kmsd --audit-checkpoint-export (directories or files; journalctl -o json output too): the trail must agree with every one, which catches a trail rewritten after they were exported, even one signed again with kmsd's key."`
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
	// SignaturesChecked: each signed checkpoint's signature was checked
	// with the trail's public key (--public-key, or kmsd's); the records
	// up to TreeSize are covered by the last one's, whose tree has the
	// root RootHash (base64, as in the checkpoint).
	SignaturesChecked bool
	SignedCheckpoints int
	Origin            string `json:",omitempty"`
	TreeSize          uint64 `json:",omitempty"`
	RootHash          string `json:",omitempty"`
	// ExportedCheckpoints is how many exported checkpoints the trail
	// agreed with; ExportedCheckpointsOlder how many were older than its
	// first file (retired), and could not be checked.
	ExportedCheckpoints      int      `json:",omitempty"`
	ExportedCheckpointsOlder int      `json:",omitempty"`
	Problem                  string   `json:",omitempty"`
	Gaps                     []string `json:",omitempty"`
	// KmsdHeadSeq is how far kmsd's trail goes, when the files verified
	// are not kmsd's own (a copy): not a fault.
	KmsdHeadSeq uint64 `json:",omitempty"`
}

// run reads the files once, at the disk's pace (progress on a terminal),
// checking lines, seq, the chain, file boundaries, the Merkle tree and
// the signed checkpoints, and collecting the MACed checkpoints; then,
// unless --public-key makes it offline, it has kmsd check their MACs and
// tell its saved head and the gaps it knows of. Only the calls to kmsd
// are bounded by --timeout.
func (c *auditVerifyCmd) run(e *env) error {
	offline := c.PublicKey != ""
	var cl *client.Client
	var head *api.VerifyAuditCheckpointsOutput
	cerr := errors.New("offline (--public-key)")
	if !offline {
		if cl, cerr = e.client(); cerr == nil {
			// Have kmsd seal what it has written under a checkpoint first,
			// so that the records up to now are covered by a MAC and a
			// signature.
			ctx, cancel := e.rpc()
			h, err := cl.VerifyAuditCheckpoints(ctx, &api.VerifyAuditCheckpointsInput{})
			cancel()
			if err != nil {
				return err
			}
			head = h
		}
	}
	verifiers, err := c.verifiers(head)
	if err != nil {
		return err
	}
	var exported []audit.ExportedCheckpoint
	if len(c.Checkpoints) > 0 {
		if verifiers == nil {
			return usageError{errors.New("--checkpoints needs the trail's public key: give --public-key, or let kmsctl ask kmsd")}
		}
		if exported, err = audit.ReadExported(c.Checkpoints, verifiers); err != nil {
			return fmt.Errorf("exported checkpoints: %w", err)
		}
	}
	if offline && c.AuditDir == "" && len(c.Files) == 0 {
		return usageError{errors.New("with --public-key, name the trail: a directory, or its files")}
	}
	files, err := c.files(e)
	if err != nil {
		return err
	}
	opts := audit.VerifyOptions{Collect: !offline, Progress: progress(e, files), Verifiers: verifiers, Exported: exported}
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
	if verifiers != nil && r.Problem == nil && r.Signed == 0 {
		r.Problem = &audit.Problem{File: files[len(files)-1], Seq: r.LastSeq, Reason: "no checkpoint in the trail is signed by the key: nothing in it is vouched for"}
	}
	out := verifyReport{Status: "OK", Files: r.Files, Records: r.Records, Checkpoints: r.Checkpoints, FirstSeq: r.FirstSeq,
		LastSeq: r.LastSeq, LastCheckpoint: r.LastCheckpoint, CheckpointMACsChecked: cerr == nil, Gaps: r.Gaps,
		SignaturesChecked: r.SignaturesChecked, SignedCheckpoints: r.Signed, Origin: r.Origin,
		ExportedCheckpoints: r.Exported, ExportedCheckpointsOlder: r.ExportedOlder}
	if r.Signed > 0 {
		out.TreeSize, out.RootHash = r.Tree.Size, base64.StdEncoding.EncodeToString(r.Tree.Root[:])
	}
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
	case !offline && cerr != nil:
		return fmt.Errorf("the chain is intact, but checkpoint MACs and signatures were not checked: %w", cerr)
	}
	return nil
}

// verifiers are the public key to check signatures with: --public-key's
// file, or kmsd's, or none.
func (c *auditVerifyCmd) verifiers(head *api.VerifyAuditCheckpointsOutput) (note.Verifiers, error) {
	switch {
	case c.PublicKey != "":
		return readPublicKey(c.PublicKey)
	case head != nil && head.PublicKey != "":
		vs, _, err := audit.Verifiers(head.PublicKey)
		return vs, err
	}
	return nil, nil
}

// readPublicKey reads a public key file (audit public-key's output).
func readPublicKey(name string) (note.Verifiers, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, usageError{fmt.Errorf("--public-key: %w", err)}
	}
	vs, _, err := audit.Verifiers(string(b))
	if err != nil {
		return nil, usageError{fmt.Errorf("--public-key %s: %w", name, err)}
	}
	return vs, nil
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
