package api

import "time"

// HelloInput opens every connection: the first frame a client sends.
type HelloInput struct {
	ProtocolVersion int32
	Client          string // free text, e.g. "kmsctl/1.0"
	// Ring says the client can take the connection's frames through
	// shared-memory rings (package kmsd/wire/ring): if kmsd offers them,
	// its answer carries the rings' memfd (SCM_RIGHTS) and says their
	// size in Ring.
	Ring bool
	// RingSize is the size of each ring the client would like (a power
	// of two; larger rings carry large batch frames with fewer waits):
	// 0 takes kmsd's default (kmsd --ring-size). kmsd gives at most its
	// --max-ring-size, and its default instead when its memory for rings
	// is short.
	RingSize int32
}

// HelloOutput is the server's answer to Hello.
type HelloOutput struct {
	ProtocolVersion int32
	ServerVersion   string
	Suite           string // the AEAD of new ciphertexts
	CPU             CPUFeatures
	Limits          Limits
	// Ring is the size of each of the connection's shared-memory rings,
	// when the client asked for them and kmsd offers them: this answer
	// then carries their memfd, and every later frame of the connection,
	// either way, goes through the rings. 0: frames stay on the socket.
	Ring int32
}

// CPUFeatures are the CPU flags that choose the suite, as the server's
// CPU reports them.
type CPUFeatures struct {
	AESNI         bool
	PCLMULQDQ     bool
	AVX2          bool
	VAES          bool
	PhysicalCores int32
}

// Limits are the server's limits; a client must stay within them.
type Limits struct {
	MaxFrame          int32
	MaxBatchItems     int32
	MaxInFlight       int32 // requests outstanding on one connection
	MaxPlaintext      int32
	MaxCiphertextBlob int32
}

// StatusInput is the request of Status (kmsctl status).
type StatusInput struct{}

// StatusOutput describes the running daemon.
type StatusOutput struct {
	ServerVersion string
	Suite         string
	CPU           CPUFeatures
	StartTime     time.Time
	UptimeSeconds int64
	KeyCount      int64
	Connections   int64
	Workers       int32
	QueueDepth    int32
	QueueCapacity int32
	Requests      int64  // requests served since start, batch items counted one by one
	BatchRequests int64  // batch frames among them
	Throttled     int64  // requests answered ThrottlingException
	Audit         string // "ok", "down" (requests are refused) or "off"
	HeapAllocs    int64  // heap objects kmsd has allocated since it started (the Go runtime's count)
	// StateFreeBytes and AuditFreeBytes are the room left on the state and
	// audit directories' file systems (-1: unknown); DiskWarning, when set,
	// says that kmsd will soon refuse changes, or requests, for want of it.
	StateFreeBytes int64
	AuditFreeBytes int64
	DiskWarning    string `json:",omitzero"`
	// Fleet is set on a host of a fleet (--store etcd): how current its
	// copy of the fleet's keys is.
	Fleet FleetStatus `json:",omitzero" wire:"omitempty"`
}

// FleetStatus is a fleet host's part of Status (docs/fleet.md).
type FleetStatus struct {
	Host string
	// Revision is the etcd revision this host's copy reflects.
	Revision int64
	// StalenessMillis is how long ago etcd last confirmed the copy
	// current; past the fleet's bound (MaxStalenessMillis) crypto is
	// refused.
	StalenessMillis    int64
	MaxStalenessMillis int64
	// Leader says whether this host runs the fleet's scheduled work.
	Leader bool
	// Error says why etcd cannot be reached, while it cannot.
	Error string `json:",omitzero"`
}

// GetKeyLastUsageOutput is the response of GetKeyLastUsage (an AWS KMS
// operation of 2026): the key's last successful cryptographic use, from
// the audit trail.
type GetKeyLastUsageOutput struct {
	KeyId             string       `json:",omitzero"`
	KeyLastUsage      KeyLastUsage `json:",omitzero"`
	TrackingStartDate time.Time    `json:",omitzero"`
	KeyCreationDate   time.Time    `json:",omitzero"`
}

// KeyLastUsage is one use: the operation, when, and the audit record.
type KeyLastUsage struct {
	Operation string    `json:",omitzero"`
	Timestamp time.Time `json:",omitzero"`
	// EventId is the audit record's seq; in the JSON forms it is AWS's
	// CloudTrailEventId, the trail being kmsd's CloudTrail.
	EventId string `json:"CloudTrailEventId,omitzero"`
}

// GetUsageInput is the request of GetUsage (kmsd's own).
type GetUsageInput struct {
	WindowMinutes *int32 `json:",omitzero"` // the window: 1..60 minutes, default 60
}

// GetUsageOutput counts requests by key and principal over the window.
type GetUsageOutput struct {
	Since         time.Time    `json:",omitzero"`
	WindowMinutes int32        `json:",omitzero"`
	Usage         []UsageEntry `json:",omitzero"`
}

// UsageEntry is one key and principal's requests in the window.
type UsageEntry struct {
	KeyId     string `json:",omitzero"`
	Principal string `json:",omitzero"`
	Requests  int64
	Errors    int64
}

// VerifyAuditCheckpointsInput asks kmsd to check checkpoint MACs (kmsd's
// own operation, for kmsctl audit verify), at most 10,000 at a time. A
// call without checkpoints first makes kmsd write a checkpoint over the
// records written so far, so that a verification starting with it covers
// them all.
type VerifyAuditCheckpointsInput struct {
	Checkpoints []AuditCheckpoint `json:",omitzero" wire:"max=10000"`
}

// AuditCheckpoint is one checkpoint record: its seq, the prev it chains
// to and its MAC (hex).
type AuditCheckpoint struct {
	Seq  int64  `json:",omitzero"`
	Prev string `json:",omitzero"`
	Mac  string `json:",omitzero"`
}

// VerifyAuditCheckpointsOutput says which checkpoint is wrong (-1: none)
// and where kmsd's trail is.
type VerifyAuditCheckpointsOutput struct {
	FirstInvalid int32
	HeadSeq      int64  `json:",omitzero"`
	HeadHash     string `json:",omitzero"`
	AuditDir     string `json:",omitzero"`
	// Gaps are the records the trail is known to have lost, kept in
	// kmsd's store for good (AuditTrailCut).
	Gaps []string `json:",omitzero" wire:"max=256"`
	// RetiredSeq and RetiredHash say where the files the retention
	// settings removed ended: the trail begins after them.
	RetiredSeq  int64  `json:",omitzero"`
	RetiredHash string `json:",omitzero"`
	// PublicKey is the key the trail's checkpoints are signed with, in
	// the note verifier-key format (docs/audit.md): with it anyone can
	// check a copy of the trail, without kmsd.
	PublicKey string `json:",omitzero"`
}

// CreateBackupInput is the request of CreateBackup (kmsd's own; root and
// the admin group): take a consistent snapshot of the store, sealed under
// the root key, to be read with GetBackupPart.
type CreateBackupInput struct{}

// CreateBackupOutput names the backup and says its size and contents.
type CreateBackupOutput struct {
	BackupId string `json:",omitzero"`
	Size     int64
	Records  int64
	Keys     int64
	Created  time.Time `json:",omitzero"`
}

// GetBackupPartInput asks for the bytes of a backup from Offset.
type GetBackupPartInput struct {
	BackupId string `json:",omitzero"`
	Offset   int64
}

// GetBackupPartOutput is up to 1 MiB of a backup; Done once the last byte
// is sent (kmsd then forgets the backup).
type GetBackupPartOutput struct {
	Data []byte `json:",omitzero"`
	Size int64
	Done bool
}

// RotateRootKeyInput is the request of RotateRootKey (kmsd's own; root
// only): re-seal every key under a new root key.
type RotateRootKeyInput struct{}

// RotateRootKeyOutput says where the new root key is, where the old one
// was kept, and how many keys were re-sealed.
type RotateRootKeyOutput struct {
	RootKeyFile    string `json:",omitzero"`
	OldRootKeyFile string `json:",omitzero"`
	Keys           int64
}
