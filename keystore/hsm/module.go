package hsm

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// ErrModuleTrust is CheckModule's refusal: the module is a file someone
// other than root (or kmsd's own user) could have written, or could
// replace.
var ErrModuleTrust = errors.New("the PKCS#11 module is not trusted")

// CheckModule checks, before a module is loaded into kmsd's process, that
// only root (or the user kmsd runs as) could have written it or could
// replace it: path is absolute, names a regular file, and that file and
// every directory above it, along path as given and along the path its
// symbolic links lead to, are owned by root (or kmsd's user) and
// writable by no group and no one else. A module's constructor runs with
// kmsd's rights the moment it is loaded, so a module anyone else could
// plant is refused, whoever names it.
func CheckModule(path string) error {
	if !filepath.IsAbs(path) || filepath.Clean(path) != path {
		return fmt.Errorf("%w: %q is not a clean absolute path", ErrModuleTrust, path)
	}
	real, err := filepath.EvalSymlinks(path)
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%w: %s: %v", ErrModule, path, err)
	}
	if err != nil {
		return fmt.Errorf("%w: %v", ErrModuleTrust, err)
	}
	st, err := os.Stat(real)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrModuleTrust, err)
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("%w: %s is not a regular file", ErrModuleTrust, real)
	}
	for _, p := range []string{path, real} {
		for dir := p; ; dir = filepath.Dir(dir) {
			if err := trusted(dir); err != nil {
				return err
			}
			if dir == "/" {
				break
			}
		}
	}
	return nil
}

// trusted checks one path (not following a final symbolic link, which is
// judged as the entry it is): owned by root or kmsd's user, and writable
// by no group and no one else. A symbolic link's own mode is always
// 0777 and means nothing; its owner does.
func trusted(p string) error {
	fi, err := os.Lstat(p)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrModuleTrust, err)
	}
	sys, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fmt.Errorf("%w: %s: no owner", ErrModuleTrust, p)
	}
	if sys.Uid != 0 && int(sys.Uid) != os.Geteuid() {
		return fmt.Errorf("%w: %s is owned by uid %d, not root", ErrModuleTrust, p, sys.Uid)
	}
	if fi.Mode()&os.ModeSymlink == 0 && fi.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("%w: %s is writable by its group or by others (mode %04o)", ErrModuleTrust, p, fi.Mode().Perm())
	}
	return nil
}
