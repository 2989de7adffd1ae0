package e2e

import (
	"context"
	"encoding/json"
	"kmsd/internal/ci"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"kmsd/internal/testkit"
	"kmsd/keystore/badgerstore"
	"kmsd/wire/api"
)

// smallDisk mounts a small file system for the test (root only): a
// tmpfs, or an ext4 image on a loop device (mount -o loop), of size
// ("200m").
func smallDisk(t *testing.T, kind, size string) string {
	t.Helper()
	testkit.RequireRoot(t)
	dir := testkit.ShortDir(t)
	switch kind {
	case "tmpfs":
		if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size="+size+",mode=0700"); err != nil {
			ci.Skipf(t, "cannot mount a tmpfs: %v", err)
		}
	case "ext4":
		img := filepath.Join(testkit.ShortDir(t), "fs.img")
		for _, c := range [][]string{{"truncate", "-s", size, img}, {"mkfs.ext4", "-q", "-F", img}, {"mount", "-o", "loop", img, dir}} {
			if out, err := exec.Command(c[0], c[1:]...).CombinedOutput(); err != nil {
				ci.Skipf(t, "%v: %v %s", c, err, out)
			}
		}
		os.Chmod(dir, 0o700)
	}
	t.Cleanup(func() { unix.Unmount(dir, unix.MNT_DETACH) })
	return dir
}

// fill leaves about leave bytes free on dir's file system, in one file.
func fill(t *testing.T, dir string, leave int64) string {
	t.Helper()
	free, err := badgerstore.FreeSpace(dir)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.CreateTemp(dir, "filler")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := unix.Fallocate(int(f.Fd()), 0, 0, free-leave); err != nil {
		t.Fatal(err)
	}
	return f.Name()
}

// TestFullStateDisk: with the state directory's file system nearly full,
// kmsd refuses changes to keys with a clear error, serves every key, says
// so in its status, stops cleanly, starts again (read-only) and serves,
// and takes changes again once there is room: it never crashes (Badger
// writes through memory maps, where a full disk is a SIGBUS).
func TestFullStateDisk(t *testing.T) {
	for _, kind := range []string{"tmpfs", "ext4"} {
		t.Run(kind, func(t *testing.T) { fullStateDisk(t, smallDisk(t, kind, "200m")) })
	}
}

func fullStateDisk(t *testing.T, dir string) {
	ctx := context.Background()
	d := testkit.Start(t, testkit.Config{Dir: dir})
	c := d.Dial(t)
	key, err := c.CreateKey(ctx, &api.CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	filler := fill(t, dir, 24<<20)
	encrypt := func(d *testkit.Daemon) {
		t.Helper()
		if _, err := d.Dial(t).Encrypt(ctx, &api.EncryptInput{KeyId: key.KeyMetadata.KeyId, Plaintext: []byte("x")}); err != nil {
			t.Fatalf("a key did not serve while the disk was full: %v", err)
		}
	}
	refused := func(d *testkit.Daemon) {
		t.Helper()
		_, errs, code := d.Kmsctl(t, "create-key")
		if code == 0 || !strings.Contains(errs, "state directory is full") {
			t.Fatalf("create-key on a full disk: exit %d: %s", code, errs)
		}
	}
	refused(d)
	encrypt(d)
	var st api.StatusOutput
	json.Unmarshal([]byte(d.OK(t, "status")), &st)
	if st.DiskWarning == "" || st.StateFreeBytes <= 0 || st.StateFreeBytes > 64<<20 {
		t.Errorf("status on a full disk: %+v", st)
	}
	stop := func(d *testkit.Daemon) {
		t.Helper()
		d.Signal(syscall.SIGTERM)
		if err := d.Wait(30 * time.Second); err != nil {
			t.Fatalf("kmsd stopping on a full disk: %v\n%s", err, d.Log)
		}
	}
	stop(d)
	d = testkit.Start(t, testkit.Config{Dir: dir})
	encrypt(d)
	refused(d)
	stop(d)
	// All but 4 MiB taken: the store opens read-only, keys still serve.
	more := fill(t, dir, 4<<20)
	d = testkit.Start(t, testkit.Config{Dir: dir})
	encrypt(d)
	refused(d)
	stop(d)
	os.Remove(more)
	os.Remove(filler)
	d = testkit.Start(t, testkit.Config{Dir: dir})
	encrypt(d)
	if _, err := d.Dial(t).CreateKey(ctx, &api.CreateKeyInput{}); err != nil {
		t.Fatalf("create-key once there is room: %v", err)
	}
}
