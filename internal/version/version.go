// Package version names the build of kmsd and kmsctl: the commit both were
// built from, so that `kmsd --version` and `kmsctl --version` agree
// whether they came from `make build` or a plain `go build`.
//
// Go records the version control state of a build made in a checkout
// (-buildvcs, on by default); [String] reads it. A packager may name a
// release instead, for both binaries at once:
//
//	go build -ldflags "-X kmsd/internal/version.release=1.4.2" ./cmd/...
package version

import (
	"runtime/debug"
	"sync"
)

// release, when set at link time, is the version both binaries print.
var release string

// String is the build's version: the release set at link time, else
// the commit Go recorded (its first 12 hex digits, "-dirty" when the
// checkout had changes), else "devel" for a build outside a checkout.
func String() string { return current() }

var current = sync.OnceValue(func() string {
	if release != "" {
		return release
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	return fromSettings(info.Settings)
})

// fromSettings is String's answer from a build's settings.
func fromSettings(settings []debug.BuildSetting) string {
	var rev string
	var dirty bool
	for _, s := range settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return "devel"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if dirty {
		rev += "-dirty"
	}
	return rev
}
