package daemon

import (
	"errors"

	"github.com/coreos/go-systemd/v22/journal"
)

// exportToJournal copies each signed checkpoint to the systemd journal
// (--audit-checkpoint-export journal), as an entry of kmsd's with the
// fields KMSD_AUDIT_ORIGIN and KMSD_AUDIT_CHECKPOINT: the journal keeps
// it beyond the reach of anyone who edits the trail's files, and ships it
// wherever the host's logs go. `journalctl -o json KMSD_AUDIT_ORIGIN=...`
// prints them in the form kmsctl audit verify --checkpoints reads.
func exportToJournal(origin string) (func([]byte) error, error) {
	if !journal.Enabled() {
		return nil, errors.New("--audit-checkpoint-export journal: the systemd journal is not reachable (no /run/systemd/journal/socket)")
	}
	return func(signed []byte) error {
		return journal.Send("audit checkpoint", journal.PriInfo, map[string]string{
			"SYSLOG_IDENTIFIER": "kmsd", "KMSD_AUDIT_ORIGIN": origin, "KMSD_AUDIT_CHECKPOINT": string(signed)})
	}, nil
}
