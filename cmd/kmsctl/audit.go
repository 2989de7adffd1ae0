package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"kmsd/daemon/audit"
	"kmsd/wire/api"
)

// auditCmd reads the trail's files directly (its directory is readable by
// root and kmsd's user only) and asks kmsd for what only it can check.
type auditCmd struct {
	Verify      auditVerifyCmd      `cmd:"" help:"Check the audit trail: chain, order, signed checkpoints and their Merkle tree, checkpoint MACs, and that nothing was cut off. With --public-key, a copy anywhere, without kmsd."`
	Query       auditQueryCmd       `cmd:"" help:"Print the records that match, as JSON Lines."`
	PublicKey   auditPublicKeyCmd   `cmd:"" name:"public-key" help:"Print the public key the trail's checkpoints are signed with (note verifier-key format), for whoever checks a copy of the trail."`
	Prove       auditProveCmd       `cmd:"" help:"Print a proof, as JSON: that record --seq is in the tree of a signed checkpoint, or (--from) that a signed checkpoint's tree extends an older one."`
	VerifyProof auditVerifyProofCmd `cmd:"" name:"verify-proof" help:"Check a proof from audit prove with the public key alone."`
}

type auditFiles struct {
	AuditDir string   `help:"The trail's directory (default: ask kmsd)."`
	Files    []string `arg:"" optional:"" help:"The trail's directory, or its files in order (default: kmsd's trail)."`
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
