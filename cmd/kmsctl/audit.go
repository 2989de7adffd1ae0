package main

import (
	"fmt"
	"os"

	"kmsd/daemon/audit"
	"kmsd/wire/api"
)

// auditCmd reads the trail's files directly (its directory is readable by
// root and kmsd's user only) and asks kmsd for what only it can check.
type auditCmd struct {
	Verify      auditVerifyCmd      `cmd:"" help:"Check the audit trail: chain, order, signed checkpoints and their Merkle tree, checkpoint MACs, and that nothing was cut off. With --public-key, a copy anywhere, without kmsd."`
	Query       auditQueryCmd       `cmd:"" help:"Print the records that match, as JSON Lines; of several trails (a fleet's hosts' directories), merged by time."`
	Usage       auditUsageCmd       `cmd:"" help:"Count the requests of one or several trails (a fleet's hosts' directories) by key, caller and operation."`
	PublicKey   auditPublicKeyCmd   `cmd:"" name:"public-key" help:"Print the public key the trail's checkpoints are signed with (note verifier-key format), for whoever checks a copy of the trail."`
	Prove       auditProveCmd       `cmd:"" help:"Print a proof, as JSON: that record --seq is in the tree of a signed checkpoint, or (--from) that a signed checkpoint's tree extends an older one."`
	VerifyProof auditVerifyProofCmd `cmd:"" name:"verify-proof" help:"Check a proof from audit prove with the public key alone."`
}

type auditFiles struct {
	AuditDir string   `help:"The trail's directory (default: ask kmsd)."`
	Files    []string `arg:"" optional:"" help:"The trail's directory, or its files in order, or several trails' directories (a fleet's hosts') (default: kmsd's trail)."`
}

// trails returns the trails to read: one per directory when several
// directories are named (a fleet's hosts'), else the one files names.
func (a *auditFiles) trails(e *env) ([][]string, error) {
	if len(a.Files) > 1 {
		var out [][]string
		for _, d := range a.Files {
			if st, err := os.Stat(d); err != nil || !st.IsDir() {
				out = nil
				break
			}
			files, err := audit.Files(d)
			if err != nil {
				return nil, err
			}
			out = append(out, files)
		}
		if out != nil {
			return out, nil
		}
	}
	files, err := a.files(e)
	return [][]string{files}, err
}

// files returns the files to read.
func (a *auditFiles) files(e *env) ([]string, error) {
	dir := a.AuditDir
	if len(a.Files) == 1 {
		if st, err := os.Stat(a.Files[0]); err == nil && st.IsDir() {
			dir = a.Files[0]
		}
	}
	if len(a.Files) > 0 && dir == a.AuditDir {
		return a.Files, nil
	}
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
