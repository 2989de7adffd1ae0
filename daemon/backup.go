package daemon

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"sync"
	"time"

	"kmsd/daemon/kms"
	"kmsd/wire/api"
)

// Backups: CreateBackup takes a sealed snapshot of the store
// (kms.Service.Backup) and keeps it in memory, one at a time, for
// GetBackupPart to hand out 1 MiB at a time; it is forgotten once read to
// the end, when a newer one is taken, or after backupTTL.
const (
	backupPart = 1 << 20
	backupTTL  = 10 * time.Minute
)

type backups struct {
	mu      sync.Mutex
	id      string
	data    []byte
	expires time.Time
}

// localMeta is the metadata a backup leaves out: the audit trail's head,
// gaps and retirements belong with this state directory's trail, which a
// backup does not carry.
func localMeta(name string) bool {
	switch name {
	case metaAuditCheckpoint, metaAuditGaps, metaAuditRetired:
		return true
	}
	return false
}

func (s *Server) createBackup(ctx context.Context, svc *kms.Service, _ api.Message) (api.Message, error) {
	if !svc.IsAdmin(ctx) {
		return nil, &api.Error{Code: api.CodeAccessDenied, Message: "only root and the admin group may back up kmsd"}
	}
	extra := map[string]string{"kmsd_version": s.cfg.Version}
	if s.cfg.Audit != nil {
		seq, hash := s.cfg.Audit.LastCheckpoint()
		extra["audit_head_seq"], extra["audit_head_hash"] = strconv.FormatUint(seq, 10), hex.EncodeToString(hash[:])
	}
	data, h, err := svc.Backup(localMeta, extra)
	if err != nil {
		return nil, err
	}
	var raw [16]byte
	rand.Read(raw[:])
	s.backup.mu.Lock()
	clear(s.backup.data)
	s.backup.id, s.backup.data, s.backup.expires = hex.EncodeToString(raw[:]), data, time.Now().Add(backupTTL)
	id := s.backup.id
	s.backup.mu.Unlock()
	s.log.Info("backup taken", "records", h.Records, "keys", h.Keys, "bytes", len(data))
	return &api.CreateBackupOutput{BackupId: id, Size: int64(len(data)), Records: int64(h.Records), Keys: int64(h.Keys), Created: h.Created}, nil
}

func (s *Server) getBackupPart(ctx context.Context, svc *kms.Service, in api.Message) (api.Message, error) {
	if !svc.IsAdmin(ctx) {
		return nil, &api.Error{Code: api.CodeAccessDenied, Message: "only root and the admin group may back up kmsd"}
	}
	req := in.(*api.GetBackupPartInput)
	b := &s.backup
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.id == "" || req.BackupId != b.id || time.Now().After(b.expires) {
		return nil, &api.Error{Code: api.CodeNotFound, Message: "no such backup (a newer one was taken, or it expired): take another"}
	}
	if req.Offset < 0 || req.Offset > int64(len(b.data)) {
		return nil, &api.Error{Code: api.CodeValidation, Message: "Offset is outside the backup"}
	}
	end := min(int64(len(b.data)), req.Offset+backupPart)
	out := &api.GetBackupPartOutput{Data: append([]byte(nil), b.data[req.Offset:end]...), Size: int64(len(b.data)), Done: end == int64(len(b.data))}
	if out.Done {
		clear(b.data)
		b.id, b.data = "", nil
	}
	return out, nil
}
