package main

import (
	"fmt"
	"math"
	"strconv"
	"time"
)

// Importing key material, with the aws CLI's commands and flags.

// readTime reads a timestamp flag (parseTimestamp); "" is none.
func readTime(name, v string) (*time.Time, error) {
	if v == "" {
		return nil, nil
	}
	t, err := parseTimestamp(v)
	if err != nil {
		return nil, fmt.Errorf("--%s: %w", name, err)
	}
	return &t, nil
}

// parseTimestamp reads a timestamp as the aws CLI takes one: ISO 8601
// (with or without a time and zone; UTC if none) or seconds since the
// epoch.
func parseTimestamp(s string) (time.Time, error) {
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		sec, frac := math.Modf(f)
		return time.Unix(int64(sec), int64(frac*1e9)).UTC(), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not an ISO 8601 time (2026-12-31T00:00:00Z) or seconds since the epoch", s)
}
