package keystore

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func newRootKey(t *testing.T) *RootKey {
	t.Helper()
	rk, err := NewRootKey(bytes.Repeat([]byte{9}, RootKeySize))
	if err != nil {
		t.Fatal(err)
	}
	return rk
}

func TestRootKeyFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "root-key")
	if err := CreateRootKey(path); err != nil {
		t.Fatalf("create: %v", err)
	}
	if err := CreateRootKey(path); !errors.Is(err, os.ErrExist) {
		t.Fatalf("created over an existing root key: %v", err)
	}
	st, _ := os.Stat(path)
	if st.Mode().Perm() != 0o600 || st.Size() != RootKeySize {
		t.Fatalf("root key file mode %v size %d", st.Mode(), st.Size())
	}
	if rk, err := LoadRootKey(path); err != nil || rk == nil {
		t.Fatalf("load: %v", err)
	}
	os.Chmod(path, 0o640)
	if _, err := LoadRootKey(path); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("group-readable root key accepted: %v", err)
	}
	short := filepath.Join(dir, "short")
	os.WriteFile(short, make([]byte, 31), 0o600)
	long := filepath.Join(dir, "long")
	os.WriteFile(long, make([]byte, 33), 0o600)
	for _, p := range []string{short, long, filepath.Join(dir, "missing")} {
		if _, err := LoadRootKey(p); err == nil {
			t.Errorf("%s accepted", p)
		}
	}
	// A FIFO is refused at once, not waited on (which hung kmsd's start).
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := LoadRootKey(fifo); done <- err }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("a FIFO as the root key: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("LoadRootKey waits on a FIFO")
	}
	// A root key owned by another user is refused (root only: chown).
	if os.Geteuid() == 0 {
		other := filepath.Join(dir, "other")
		os.WriteFile(other, make([]byte, RootKeySize), 0o600)
		os.Chown(other, 65534, 65534)
		if _, err := LoadRootKey(other); err == nil || !strings.Contains(err.Error(), "owned by uid 65534") {
			t.Errorf("a root key owned by nobody: %v", err)
		}
	}
}

func TestSealUnseal(t *testing.T) {
	rk := newRootKey(t)
	id := NewKeyID()
	key := bytes.Repeat([]byte{5}, MaterialSize)
	sealed, err := rk.Seal(id, 2, key)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, key[:8]) {
		t.Fatal("sealed record holds the material")
	}
	if _, err := rk.Unseal(id, 2, sealed); err != nil {
		t.Fatal(err)
	}
	other, _ := NewRootKey(bytes.Repeat([]byte{8}, RootKeySize))
	for name, f := range map[string]func() error{
		"other root key": func() error { _, err := other.Unseal(id, 2, sealed); return err },
		"other version":  func() error { _, err := rk.Unseal(id, 3, sealed); return err },
		"other key":      func() error { _, err := rk.Unseal(NewKeyID(), 2, sealed); return err },
	} {
		if err := f(); !errors.Is(err, ErrWrongRootKey) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestDecodeRecordRejects(t *testing.T) {
	for name, in := range map[string]string{
		"newer version": `{"v":5,"KeyId":"1234abcd-12ab-44cd-96ef-1234567890ab"}`,
		"no version":    `{"KeyId":"1234abcd-12ab-44cd-96ef-1234567890ab"}`,
		"unknown field": `{"v":1,"KeyId":"1234abcd-12ab-44cd-96ef-1234567890ab","Evil":1}`,
		"bad id":        `{"v":1,"KeyId":"nope"}`,
		"trailing":      `{"v":1,"KeyId":"1234abcd-12ab-44cd-96ef-1234567890ab"} {}`,
		"version gap":   `{"v":1,"KeyId":"1234abcd-12ab-44cd-96ef-1234567890ab","Versions":[{"Version":2}]}`,
		"not json":      "\x00\x01",
		"wrong type":    `{"v":"1"}`,
	} {
		if _, err := DecodeKeyRecord([]byte(in)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestSealKeyFormat2(t *testing.T) {
	rk := newRootKey(t)
	id := NewKeyID()
	key := bytes.Repeat([]byte("pkcs8"), 500) // an RSA-4096 key's size
	sealed, err := rk.SealKey(id, 1, key)
	if err != nil {
		t.Fatal(err)
	}
	if sealed[0] != 0x02 || len(sealed) != 1+24+len(key)+16 || bytes.Contains(sealed, key[:10]) {
		t.Fatalf("format 2 is 0x02 | nonce | ciphertext | tag, without the material in clear (%d bytes)", len(sealed))
	}
	got, err := rk.UnsealKey(id, 1, sealed)
	if err != nil || !bytes.Equal(got, key) {
		t.Fatalf("UnsealKey: %v", err)
	}
	if _, err := rk.Unseal(id, 1, sealed); err == nil {
		t.Fatal("a format 2 seal opened as symmetric material")
	}
	sym, _ := rk.Seal(id, 1, bytes.Repeat([]byte{5}, MaterialSize))
	if _, err := rk.UnsealKey(id, 1, sym); err == nil {
		t.Fatal("symmetric material opened as format 2")
	}
	other, _ := NewRootKey(bytes.Repeat([]byte{8}, RootKeySize))
	for name, f := range map[string]func() error{
		"other root key": func() error { _, err := other.UnsealKey(id, 1, sealed); return err },
		"other version":  func() error { _, err := rk.UnsealKey(id, 2, sealed); return err },
		"other key":      func() error { _, err := rk.UnsealKey(NewKeyID(), 1, sealed); return err },
	} {
		if err := f(); !errors.Is(err, ErrWrongRootKey) {
			t.Errorf("%s: %v", name, err)
		}
	}
	for _, n := range []int{0, MaxKeyMaterial + 1} {
		if _, err := rk.SealKey(id, 1, make([]byte, n)); err == nil {
			t.Errorf("%d bytes sealed", n)
		}
	}
	moved, _ := rk.reseal(other, id, 1, sealed)
	if got, err := other.UnsealKey(id, 1, moved); err != nil || !bytes.Equal(got, key) {
		t.Fatalf("reseal keeps format 2: %v", err)
	}
}
