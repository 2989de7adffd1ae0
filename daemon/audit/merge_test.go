package audit

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Several trails (one per fleet host) merge by time, each keeping its
// order, and a filter applies to all of them.
func TestQueryTrailsMerges(t *testing.T) {
	dir := t.TempDir()
	base := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	write := func(name string, lines ...string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	rec := func(sec int, host, event string) string {
		return fmt.Sprintf(`{"time":%q,"type":"call","event":%q,"host":%q}`, base.Add(time.Duration(sec)*time.Second).Format(time.RFC3339Nano), event, host)
	}
	a := []string{write("a1", rec(1, "a", "Encrypt"), rec(4, "a", "Decrypt")), write("a2", rec(6, "a", "Encrypt"))}
	b := []string{write("b1", rec(2, "b", "Encrypt"), rec(3, "b", "Encrypt"), rec(5, "b", "Decrypt"))}
	var got []string
	err := QueryTrails([][]string{a, b}, Filter{Operation: "Encrypt"}, func(line []byte) error {
		var q struct{ Host string }
		json.Unmarshal(line, &q)
		got = append(got, q.Host)
		return nil
	})
	if err != nil || strings.Join(got, "") != "abba" {
		t.Fatalf("merged Encrypt records by host: %q, %v; want abba", got, err)
	}
}
