package main

import (
	"io"
	"log/slog"
)

// logHandler is kmsd's log: text (key=value) or JSON lines, at level.
// Durations read the same in both, as Go writes them ("5ms", "1m30s"):
// slog's JSON handler would otherwise print nanoseconds as an integer,
// which neither a reader nor a query comparing against "--drain-timeout
// 15s" can take at a glance.
func logHandler(w io.Writer, format, level string) slog.Handler {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: l, ReplaceAttr: durationString}
	if format == "json" {
		return slog.NewJSONHandler(w, opts)
	}
	return slog.NewTextHandler(w, opts)
}

// durationString writes a duration attribute as time.Duration.String.
func durationString(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindDuration {
		a.Value = slog.StringValue(a.Value.Duration().String())
	}
	return a
}
