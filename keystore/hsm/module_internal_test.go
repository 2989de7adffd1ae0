package hsm

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"kmsd/internal/ci"
)

// TestCheckModule: a module is loaded only from a file that root (or
// kmsd's user) owns and that no one else can write or replace, whichever
// path leads to it.
func TestCheckModule(t *testing.T) {
	good, err := filepath.EvalSymlinks("/bin/sh") // root's, in root's directories, on any Linux
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckModule(good); err != nil {
		t.Fatalf("%s refused: %v", good, err)
	}
	dir := t.TempDir() // under /tmp, which everyone may write
	planted := filepath.Join(dir, "evil.so")
	if err := os.WriteFile(planted, []byte("not a module"), 0o755); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.so")
	if err := os.Symlink(good, link); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, path string
		want       error
	}{
		{"a file in a directory others may write", planted, ErrModuleTrust},
		{"a link others could replace, to a good file", link, ErrModuleTrust},
		{"a relative path", "bin/sh", ErrModuleTrust},
		{"an unclean path", "/bin/../bin/sh", ErrModuleTrust},
		{"a directory", "/usr/lib", ErrModuleTrust},
		{"no file", "/nonexistent/module.so", ErrModule},
	} {
		if err := CheckModule(tc.path); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
}

// TestTrusted: the owner and the mode of each entry count.
func TestTrusted(t *testing.T) {
	if os.Geteuid() != 0 {
		ci.Skip(t, "changing a file's owner needs root")
	}
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		uid  int
		mode os.FileMode
		ok   bool
	}{
		{"root's, 0755", 0, 0o755, true},
		{"root's, group-writable", 0, 0o775, false},
		{"root's, world-writable", 0, 0o757, false},
		{"another user's", 65534, 0o755, false},
	} {
		p := filepath.Join(dir, tc.name)
		if err := os.WriteFile(p, nil, tc.mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, tc.mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(p, tc.uid, 0); err != nil {
			t.Fatal(err)
		}
		if err := trusted(p); (err == nil) != tc.ok {
			t.Errorf("%s: %v, want trusted %v", tc.name, err, tc.ok)
		}
	}
}
