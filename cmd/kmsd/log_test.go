package main

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// TestLogDurations: a duration reads as Go writes it in both formats,
// nested in a group too, and the level is applied.
func TestLogDurations(t *testing.T) {
	for _, tc := range []struct{ format, want string }{
		{"json", `"flush_interval":"5ms"`},
		{"text", `flush_interval=5ms`},
	} {
		var buf bytes.Buffer
		log := slog.New(logHandler(&buf, tc.format, "info"))
		log.Debug("not shown", "d", time.Second)
		log.Info("audit trail open", "flush_interval", 5*time.Millisecond,
			slog.Group("drain", slog.Duration("timeout", 90*time.Second)))
		out := buf.String()
		if !strings.Contains(out, tc.want) || strings.Contains(out, "5000000") {
			t.Errorf("%s: %s, want %s", tc.format, out, tc.want)
		}
		if !strings.Contains(out, "1m30s") || strings.Contains(out, "not shown") {
			t.Errorf("%s: %s", tc.format, out)
		}
		if tc.format == "json" {
			var m map[string]any
			if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
				t.Errorf("json: %v: %s", err, out)
			}
		}
	}
}
