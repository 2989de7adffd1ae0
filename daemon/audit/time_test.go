package audit

import (
	"testing"
	"time"
)

func TestAppendTimeMatchesFormat(t *testing.T) {
	for _, tm := range []time.Time{time.Unix(0, 0), time.Date(2026, 11, 26, 23, 4, 5, 123456789, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.FixedZone("x", 3600)), time.Date(1, 1, 1, 0, 0, 0, 1000, time.UTC)} {
		if got, want := string(appendTime(nil, tm)), tm.UTC().Format("2006-01-02T15:04:05.000000Z"); got != want {
			t.Errorf("%s, want %s", got, want)
		}
	}
}
