package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"kmsd/daemon/audit"
	"kmsd/wire/api"
)

// The proofs audit prove prints and audit verify-proof checks are JSON
// (docs/audit.md): the signed checkpoint, and RFC 6962 proof hashes in
// standard base64, so that anyone can check them with an RFC 6962
// library and the trail's public key, as verify-proof does with
// golang.org/x/mod/sumdb's note and tlog.

// proof is an inclusion proof (Seq, Record) or a consistency proof
// (OldSize, OldRootHash).
type proof struct {
	Type       string // inclusion or consistency
	Checkpoint string // the signed checkpoint the proof is against
	TreeSize   uint64
	// Inclusion: the record, its seq, and its leaf index (Seq-1).
	Seq       uint64 `json:",omitempty"`
	LeafIndex uint64 `json:",omitempty"`
	Record    string `json:",omitempty"`
	// Consistency: the older tree, and its signed checkpoint if the trail
	// holds one of that size.
	OldSize       uint64      `json:",omitempty"`
	OldRootHash   *tlog.Hash  `json:",omitempty"`
	OldCheckpoint string      `json:",omitempty"`
	Proof         []tlog.Hash // base64, leaf side first
}

type auditPublicKeyCmd struct{}

func (auditPublicKeyCmd) run(e *env) error {
	c, err := e.client()
	if err != nil {
		return err
	}
	out, err := c.VerifyAuditCheckpoints(e.ctx, &api.VerifyAuditCheckpointsInput{})
	if err != nil {
		return err
	}
	if out.PublicKey == "" {
		return errors.New("kmsd does not sign its audit checkpoints")
	}
	_, err = fmt.Fprintln(e.stdout, out.PublicKey)
	return err
}

type auditProveCmd struct {
	auditFiles
	Seq  uint64 `help:"Prove that this record is in the tree." xor:"what" required:""`
	From uint64 `placeholder:"SIZE" help:"Prove that the tree extends the tree of its first SIZE records (an older checkpoint's size)." xor:"what" required:""`
	Size uint64 `help:"The signed checkpoint to prove against, by its tree size (default: the trail's last)."`
}

func (c *auditProveCmd) run(e *env) error {
	files, err := c.files(e)
	if err != nil {
		return err
	}
	tr, err := audit.OpenTrail(files)
	if err != nil {
		return err
	}
	cp, err := tr.Checkpoint(c.Size)
	if err != nil {
		return err
	}
	p := proof{Checkpoint: string(cp.Signed), TreeSize: cp.Size}
	if c.Seq != 0 {
		if c.Seq > cp.Size {
			return fmt.Errorf("record %d is after the checkpoint of %d records: prove it against a later one (kmsctl audit verify has kmsd sign one now)", c.Seq, cp.Size)
		}
		rec, err := tr.Record(c.Seq)
		if err != nil {
			return err
		}
		if p.Proof, err = tr.ProveRecord(c.Seq, cp.Size); err != nil {
			return err
		}
		p.Type, p.Seq, p.LeafIndex, p.Record = "inclusion", c.Seq, c.Seq-1, string(rec)
	} else {
		if p.Proof, err = tr.ProveTree(c.From, cp.Size); err != nil {
			return err
		}
		old, err := tr.TreeHash(c.From)
		if err != nil {
			return err
		}
		p.Type, p.OldSize, p.OldRootHash = "consistency", c.From, &old
		if oc, err := tr.Checkpoint(c.From); err == nil {
			p.OldCheckpoint = string(oc.Signed)
		}
	}
	if p.Proof == nil {
		p.Proof = []tlog.Hash{}
	}
	b, err := json.MarshalIndent(p, "", "    ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(e.stdout, "%s\n", b)
	return err
}

type auditVerifyProofCmd struct {
	PublicKey     string `name:"public-key" placeholder:"FILE" required:"" help:"The trail's public key (a file holding what audit public-key printed)."`
	OldCheckpoint string `placeholder:"FILE" help:"A consistency proof's older tree as a signed checkpoint you hold (an exported one): its root must be the proof's."`
	Proof         string `arg:"" optional:"" default:"-" help:"The proof (audit prove's output); - or nothing: standard input."`
}

// proofResult is what verify-proof prints.
type proofResult struct {
	Status   string // OK or INVALID
	Type     string
	Origin   string
	TreeSize uint64
	Seq      uint64 `json:",omitempty"`
	OldSize  uint64 `json:",omitempty"`
	// OldRootSigned: a consistency proof's older root was vouched for by a
	// signed checkpoint (the proof's, or --old-checkpoint); otherwise the
	// proof shows only that the newer tree extends a tree of that root.
	OldRootSigned bool   `json:",omitempty"`
	Problem       string `json:",omitempty"`
}

func (c *auditVerifyProofCmd) run(e *env) error {
	verifiers, err := readPublicKey(c.PublicKey)
	if err != nil {
		return err
	}
	var in io.Reader = os.Stdin
	if c.Proof != "-" {
		f, err := os.Open(c.Proof)
		if err != nil {
			return usageError{err}
		}
		defer f.Close()
		in = f
	}
	b, err := io.ReadAll(io.LimitReader(in, 16<<20))
	if err != nil {
		return err
	}
	var p proof
	if err := json.Unmarshal(b, &p); err != nil {
		return usageError{fmt.Errorf("not a proof from audit prove: %w", err)}
	}
	res := proofResult{Status: "OK", Type: p.Type, TreeSize: p.TreeSize, Seq: p.Seq, OldSize: p.OldSize}
	if why := c.check(&p, &res, verifiers); why != nil {
		res.Status, res.Problem = "INVALID", why.Error()
	}
	if err := show(e.stdout, e.g, res); err != nil {
		return err
	}
	if res.Problem != "" {
		return trailBroken{errors.New("the proof does not hold: " + res.Problem)}
	}
	return nil
}

// check checks a proof: the checkpoint's signature, then the proof
// against its tree with tlog.
func (c *auditVerifyProofCmd) check(p *proof, res *proofResult, verifiers note.Verifiers) error {
	cp, err := audit.OpenCheckpoint([]byte(p.Checkpoint), verifiers)
	if err != nil {
		return err
	}
	res.Origin = cp.Origin
	if cp.Size != p.TreeSize {
		return fmt.Errorf("the proof says %d records, its checkpoint %d", p.TreeSize, cp.Size)
	}
	switch p.Type {
	case "inclusion":
		var rec struct{ Seq uint64 }
		if err := json.Unmarshal([]byte(p.Record), &rec); err != nil || rec.Seq != p.Seq || p.Seq == 0 || p.LeafIndex != p.Seq-1 {
			return fmt.Errorf("the record is not record %d", p.Seq)
		}
		if err := tlog.CheckRecord(p.Proof, int64(cp.Size), tlog.Hash(cp.Root), int64(p.Seq-1), tlog.RecordHash([]byte(p.Record))); err != nil {
			return fmt.Errorf("record %d is not in the checkpoint's tree: %w", p.Seq, err)
		}
	case "consistency":
		if p.OldRootHash == nil {
			return errors.New("a consistency proof without its older root")
		}
		for _, signed := range []string{p.OldCheckpoint, c.oldCheckpoint()} {
			if signed == "" {
				continue
			}
			old, err := audit.OpenCheckpoint([]byte(signed), verifiers)
			if err != nil {
				return fmt.Errorf("the older checkpoint: %w", err)
			}
			if old.Size != p.OldSize || old.Root != [32]byte(*p.OldRootHash) || old.Origin != cp.Origin {
				return fmt.Errorf("the older checkpoint (%d records) is not the tree the proof starts from", old.Size)
			}
			res.OldRootSigned = true
		}
		if err := tlog.CheckTree(p.Proof, int64(cp.Size), tlog.Hash(cp.Root), int64(p.OldSize), *p.OldRootHash); err != nil {
			return fmt.Errorf("the tree of %d records does not extend the one of %d: %w", cp.Size, p.OldSize, err)
		}
	default:
		return fmt.Errorf("proof type %q: want inclusion or consistency", p.Type)
	}
	return nil
}

// oldCheckpoint is --old-checkpoint's signed checkpoint: a file holding
// the note itself, or an export file's line.
func (c *auditVerifyProofCmd) oldCheckpoint() string {
	if c.OldCheckpoint == "" {
		return ""
	}
	b, err := os.ReadFile(c.OldCheckpoint)
	if err != nil {
		return "unreadable: " + err.Error()
	}
	var line struct{ Checkpoint string }
	if json.Unmarshal(b, &line) == nil && line.Checkpoint != "" {
		return line.Checkpoint
	}
	return string(b)
}
