package version

import (
	"runtime/debug"
	"testing"
)

func TestFromSettings(t *testing.T) {
	for _, c := range []struct {
		name     string
		settings []debug.BuildSetting
		want     string
	}{
		{"no vcs", nil, "devel"},
		{"clean", []debug.BuildSetting{{Key: "vcs.revision", Value: "3da87ea0123456789abcdef0123456789abcdef0"}, {Key: "vcs.modified", Value: "false"}}, "3da87ea01234"},
		{"dirty", []debug.BuildSetting{{Key: "vcs.modified", Value: "true"}, {Key: "vcs.revision", Value: "3da87ea0123456789abcdef0123456789abcdef0"}}, "3da87ea01234-dirty"},
		{"short", []debug.BuildSetting{{Key: "vcs.revision", Value: "abc"}}, "abc"},
	} {
		if got := fromSettings(c.settings); got != c.want {
			t.Errorf("%s: fromSettings = %q, want %q", c.name, got, c.want)
		}
	}
}
