// Package hostops serves kmsd's own operations on its host, which the
// operation table has the server answer: backups (CreateBackup,
// GetBackupPart: a sealed snapshot of the store, read 1 MiB at a time)
// and the online rotation of the root key (RotateRootKey). The access
// keys are package awsapi's; the audit trail's queries stay with the
// trail, in package daemon.
package hostops

import (
	"log/slog"

	"kmsd/daemon/audit"
	"kmsd/daemon/kms"
)

// Ops are the host operations of one kmsd.
type Ops struct {
	Service *kms.Service
	// Audit is the trail, whose head a backup's header records (nil: none).
	Audit *audit.Writer
	// RootKeyFile is the root key kmsd keeps in its state directory, which
	// RotateRootKey replaces; "" when it was given a file or a credential.
	RootKeyFile string
	// Version is kmsd's, recorded in a backup's header.
	Version string
	// LocalMeta reports the store's metadata a backup leaves out (what
	// belongs with this state directory's audit trail).
	LocalMeta func(name string) bool
	Log       *slog.Logger

	backup backups
}
