package hostops

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"sync"
	"time"

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

// CreateBackup serves CreateBackup: a sealed snapshot of the store, kept
// for GetBackupPart.
func (o *Ops) CreateBackup(ctx context.Context, _ api.Message) (api.Message, error) {
	svc := o.Service
	if !svc.IsAdmin(ctx) {
		return nil, &api.Error{Code: api.CodeAccessDenied, Message: "only root and the admin group may back up kmsd"}
	}
	extra := map[string]string{"kmsd_version": o.Version}
	if o.Audit != nil {
		seq, hash := o.Audit.LastCheckpoint()
		extra["audit_head_seq"], extra["audit_head_hash"] = strconv.FormatUint(seq, 10), hex.EncodeToString(hash[:])
	}
	data, h, err := svc.Backup(o.LocalMeta, extra)
	if err != nil {
		return nil, err
	}
	var raw [16]byte
	rand.Read(raw[:])
	o.backup.mu.Lock()
	clear(o.backup.data)
	o.backup.id, o.backup.data, o.backup.expires = hex.EncodeToString(raw[:]), data, time.Now().Add(backupTTL)
	id := o.backup.id
	o.backup.mu.Unlock()
	o.Log.Info("backup taken", "records", h.Records, "keys", h.Keys, "bytes", len(data))
	return &api.CreateBackupOutput{BackupId: id, Size: int64(len(data)), Records: int64(h.Records), Keys: int64(h.Keys), Created: h.Created}, nil
}

// GetBackupPart serves GetBackupPart: 1 MiB of the backup CreateBackup
// took.
func (o *Ops) GetBackupPart(ctx context.Context, in api.Message) (api.Message, error) {
	svc := o.Service
	if !svc.IsAdmin(ctx) {
		return nil, &api.Error{Code: api.CodeAccessDenied, Message: "only root and the admin group may back up kmsd"}
	}
	req := in.(*api.GetBackupPartInput)
	b := &o.backup
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
