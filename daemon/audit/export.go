package audit

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
)

// Exported checkpoints: a root user can rewrite the trail's files and
// kmsd's store, and sign a new history with kmsd's own key (it runs as
// root, or reads the root key). What such a user cannot do is take back a
// signed checkpoint already copied somewhere else: a mount of another
// machine, a log shipped off the host. Each copy fixes the trail's first
// records; `kmsctl audit verify --checkpoints DIR` checks the trail
// against every copy (VerifyOptions.Exported).
//
// kmsd hands each checkpoint to Config.Export once the trail holds it on
// the disk, on a goroutine of its own: an export that hangs (a dead NFS
// mount) holds up no request, and when it falls behind it is given the
// newest checkpoint only, which covers the ones it skipped.

// ExportFile is the name of the file of dir's exports for one origin
// and day: ORIGIN (its '/' and ':' made '_') and the UTC date, in JSON
// Lines.
func ExportFile(dir, origin string, day time.Time) string {
	name := strings.NewReplacer("/", "_", ":", "_").Replace(origin)
	return filepath.Join(dir, name+"."+day.UTC().Format("2006-01-02")+".checkpoints.jsonl")
}

// exportLine is one line of an export file. Lines of `journalctl -o
// json` (KMSD_AUDIT_CHECKPOINT, from --audit-checkpoint-export journal)
// are read too.
type exportLine struct {
	Time       string       `json:"time"`
	Checkpoint string       `json:"checkpoint"`
	Journal    journalField `json:"KMSD_AUDIT_CHECKPOINT,omitempty"`
}

// journalField is a field of journalctl's JSON: a string, or (for a
// value it does not deem printable) an array of its bytes.
type journalField string

func (f *journalField) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*f = journalField(s)
		return nil
	}
	var nums []int
	if err := json.Unmarshal(b, &nums); err != nil {
		return err
	}
	raw := make([]byte, len(nums))
	for i, n := range nums {
		if n < 0 || n > 255 {
			return errors.New("not a byte")
		}
		raw[i] = byte(n)
	}
	*f = journalField(raw)
	return nil
}

// ExportToDir returns a Config.Export that appends each signed checkpoint
// to ExportFile(dir, origin, now), as a line {"time", "checkpoint"}, and
// flushes it to the disk.
func ExportToDir(dir, origin string) (func(signed []byte) error, error) {
	if st, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("audit checkpoint export: %w", err)
	} else if !st.IsDir() {
		return nil, fmt.Errorf("audit checkpoint export: %s is not a directory", dir)
	}
	return func(signed []byte) error {
		now := time.Now()
		line, _ := json.Marshal(exportLine{Time: now.UTC().Format(time.RFC3339), Checkpoint: string(signed)})
		f, err := os.OpenFile(ExportFile(dir, origin, now), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			return err
		}
		_, err = f.Write(append(line, '\n'))
		return errors.Join(err, f.Sync(), f.Close())
	}, nil
}

// exportLoop is the goroutine that exports checkpoints.
func (w *Writer) exportLoop() {
	defer close(w.exportDone)
	for signed := range w.exportq {
		if err := w.cfg.Export(signed); err != nil {
			w.cfg.Logger.Error("audit: exporting a checkpoint", "err", err)
		}
	}
}

// export hands a signed checkpoint to the export goroutine, replacing
// one not exported yet.
func (w *Writer) export(signed []byte) {
	if w.cfg.Export == nil || signed == nil {
		return
	}
	select {
	case <-w.exportq:
	default:
	}
	w.exportq <- signed
}

// ReadExported reads the signed checkpoints in export files (or every
// *.checkpoints.jsonl file of the directories given), checking each
// signature with verifiers. A checkpoint that does not verify is an
// error: a copy that is not the trail's own is no evidence either way.
func ReadExported(paths []string, verifiers note.Verifiers) ([]ExportedCheckpoint, error) {
	var files []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			files = append(files, p)
			continue
		}
		found, err := filepath.Glob(filepath.Join(p, "*.checkpoints.jsonl"))
		if err != nil {
			return nil, err
		}
		slices.Sort(found)
		files = append(files, found...)
	}
	var out []ExportedCheckpoint
	for _, name := range files {
		got, err := readExportFile(name, verifiers)
		if err != nil {
			return nil, err
		}
		out = append(out, got...)
	}
	return out, nil
}

func readExportFile(name string, verifiers note.Verifiers) ([]ExportedCheckpoint, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []ExportedCheckpoint
	br := bufio.NewReaderSize(f, 64<<10)
	for n := 1; ; n++ {
		line, err := br.ReadSlice('\n')
		if err == io.EOF && len(line) == 0 {
			return out, nil
		}
		if err != nil && err != io.EOF {
			return nil, fmt.Errorf("%s line %d: %w", name, n, err)
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		var l exportLine
		if err := json.Unmarshal(line, &l); err != nil || l.Checkpoint == "" && l.Journal == "" {
			return nil, fmt.Errorf("%s line %d: not an exported checkpoint", name, n)
		}
		if l.Checkpoint == "" {
			l.Checkpoint = string(l.Journal)
		}
		c, err := OpenCheckpoint([]byte(l.Checkpoint), verifiers)
		if err != nil {
			return nil, fmt.Errorf("%s line %d: %w", name, n, err)
		}
		out = append(out, ExportedCheckpoint{Checkpoint: c, Where: fmt.Sprintf("%s line %d", filepath.Base(name), n)})
	}
}
