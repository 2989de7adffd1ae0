package daemon

import (
	"context"
	"encoding/hex"
	"strconv"
	"time"

	"kmsd/daemon/kms"
	"kmsd/daemon/pipeline"
	"kmsd/daemon/policy"
	"kmsd/wire/api"
)

// The operations answered from the audit trail. Their signature is a
// handler's; the service is s.cfg.Service.

func (s *Server) noAudit() error {
	return &api.Error{Code: api.CodeUnsupportedOperation, Message: "kmsd runs without an audit trail"}
}

func (s *Server) getKeyLastUsage(ctx context.Context, svc *kms.Service, in api.Message) (api.Message, error) {
	id, created, err := svc.KeyForUsage(ctx, in.(*api.KeyIDInput).KeyId)
	if err != nil {
		return nil, err
	}
	if s.cfg.Audit == nil {
		return nil, s.noAudit()
	}
	u := s.cfg.Audit.Usage()
	out := &api.GetKeyLastUsageOutput{KeyId: svc.KeyARN(id), TrackingStartDate: u.Since().UTC(), KeyCreationDate: created}
	if l, ok := u.Last(id); ok {
		out.KeyLastUsage = api.KeyLastUsage{Operation: l.Operation, Timestamp: l.Time.UTC(), EventId: strconv.FormatUint(l.Seq, 10)}
	}
	return out, nil
}

// getUsage counts requests by key and principal. Root sees every row;
// anyone else, their own.
func (s *Server) getUsage(ctx context.Context, svc *kms.Service, in api.Message) (api.Message, error) {
	req := in.(*api.GetUsageInput)
	mins := int32(60)
	if req.WindowMinutes != nil {
		mins = *req.WindowMinutes
	}
	if mins < 1 || mins > 60 {
		return nil, &api.Error{Code: api.CodeValidation, Message: "WindowMinutes must be 1 to 60"}
	}
	if s.cfg.Audit == nil {
		return nil, s.noAudit()
	}
	p := policy.From(ctx)
	mine := p.String()
	u := s.cfg.Audit.Usage()
	out := &api.GetUsageOutput{Since: u.Since().UTC(), WindowMinutes: mins, Usage: []api.UsageEntry{}}
	for _, c := range u.Counts(time.Duration(mins) * time.Minute) {
		if p.UID == 0 || c.Principal == mine {
			out.Usage = append(out.Usage, api.UsageEntry{KeyId: c.KeyID, Principal: c.Principal, Requests: c.Requests, Errors: c.Errors})
		}
	}
	return out, nil
}

// verifyAuditCheckpoints checks checkpoint MACs for kmsctl audit verify,
// which reads the files itself and cannot hold the MAC key.
func (s *Server) verifyAuditCheckpoints(ctx context.Context, svc *kms.Service, in api.Message) (api.Message, error) {
	if !svc.IsAdmin(ctx) {
		return nil, &api.Error{Code: api.CodeAccessDenied, Message: "only root and the admin group may verify the audit trail"}
	}
	if s.cfg.Audit == nil {
		return nil, s.noAudit()
	}
	req := in.(*api.VerifyAuditCheckpointsInput)
	if len(req.Checkpoints) == 0 {
		// The first call of a verification: seal what is written so far
		// under a checkpoint, so the verification covers every record.
		if err := s.cfg.Audit.Checkpoint(); err != nil {
			return nil, pipeline.AuditDown()
		}
	}
	out := &api.VerifyAuditCheckpointsOutput{FirstInvalid: -1, AuditDir: s.cfg.AuditDir, PublicKey: s.cfg.Audit.VerifierKey()}
	for i, c := range req.Checkpoints {
		prev, err1 := hex.DecodeString(c.Prev)
		mac, err2 := hex.DecodeString(c.Mac)
		if err1 != nil || err2 != nil || len(prev) != 32 || c.Seq <= 0 || !s.cfg.Audit.CheckMAC(uint64(c.Seq), [32]byte(prev), mac) {
			out.FirstInvalid = int32(i)
			break
		}
	}
	seq, hash := s.cfg.Audit.LastCheckpoint()
	out.HeadSeq, out.HeadHash = int64(seq), hex.EncodeToString(hash[:])
	gaps, err := checkpointsOf(svc).Gaps()
	if err != nil {
		s.log.Error("reading the audit trail's gaps", "err", err)
		return nil, &api.Error{Code: api.CodeInternal, Message: "kmsd could not read what it keeps of the audit trail"}
	}
	out.Gaps = gaps
	if rseq, rhash, ok, err := checkpointsOf(svc).Retired(); err == nil && ok {
		out.RetiredSeq, out.RetiredHash = int64(rseq), hex.EncodeToString(rhash[:])
	}
	return out, nil
}

// The host operations (the server's own in the table) are package
// hostops's.

func (s *Server) createBackup(ctx context.Context, _ *kms.Service, in api.Message) (api.Message, error) {
	return s.host.CreateBackup(ctx, in)
}

func (s *Server) getBackupPart(ctx context.Context, _ *kms.Service, in api.Message) (api.Message, error) {
	return s.host.GetBackupPart(ctx, in)
}

func (s *Server) rotateRootKey(ctx context.Context, _ *kms.Service, in api.Message) (api.Message, error) {
	return s.host.RotateRootKey(ctx, in)
}
