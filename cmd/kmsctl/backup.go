package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"kmsd/wire/api"
)

// backupCmd writes a backup of kmsd's store: a consistent snapshot, sealed
// under the root key (useless without it), taken while kmsd serves.
type backupCmd struct {
	Out string `required:"" help:"The file to write (created with mode 0600; it must not exist)."`
}

func (c *backupCmd) run(e *env) error {
	cl, err := e.client()
	if err != nil {
		return err
	}
	ctx, cancel := e.rpc()
	b, err := cl.CreateBackup(ctx, &api.CreateBackupInput{})
	cancel()
	if err != nil {
		return err
	}
	f, err := os.OpenFile(c.Out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	tick := progressOf(e, "backup", b.Size)
	for off := int64(0); ; {
		ctx, cancel := e.rpc()
		part, err := cl.GetBackupPart(ctx, &api.GetBackupPartInput{BackupId: b.BackupId, Offset: off})
		cancel()
		if err == nil {
			_, err = f.Write(part.Data)
		}
		if err != nil {
			f.Close()
			os.Remove(c.Out)
			return err
		}
		off += int64(len(part.Data))
		tick(off)
		if part.Done {
			break
		}
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if d, err := os.Open(filepath.Dir(c.Out)); err == nil {
		d.Sync()
		d.Close()
	}
	return show(e.stdout, e.g, struct {
		File                 string
		Bytes, Records, Keys int64
		Created              string
	}{c.Out, b.Size, b.Records, b.Keys, b.Created.UTC().Format("2006-01-02T15:04:05Z")})
}

// progressOf is a progress line on a terminal (stderr) for total bytes,
// ended when done; a no-op elsewhere.
func progressOf(e *env, what string, total int64) func(done int64) {
	if !isTerminal(e.stderr) {
		return func(int64) {}
	}
	return func(done int64) {
		fmt.Fprintf(e.stderr, "\r%s: %d of %d KiB", what, done>>10, total>>10)
		if done >= total {
			fmt.Fprintln(e.stderr)
		}
	}
}

// isTerminal reports whether w is a terminal (for progress lines).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}
