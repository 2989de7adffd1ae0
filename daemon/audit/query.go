package audit

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// Filter selects records; zero fields match everything.
type Filter struct {
	KeyID string // key_id, source_key_id or alias
	// AlsoKeyIDs match as KeyID does: the key an alias named by KeyID
	// points to (records of Decrypt name the key, never the alias).
	AlsoKeyIDs []string
	Principal  string    // uid:N or unit:NAME
	Operation  string    // the event name
	Result     string    // success, error, or an exception name
	Since      time.Time // inclusive
	Until      time.Time // exclusive
}

type queried struct {
	Time        time.Time `json:"time"`
	Type        string    `json:"type"`
	Event       string    `json:"event"`
	KeyID       string    `json:"key_id"`
	SourceKeyID string    `json:"source_key_id"`
	Alias       string    `json:"alias"`
	Error       string    `json:"error"`
	Caller      struct {
		UID  *uint32 `json:"uid"`
		Unit string  `json:"unit"`
	} `json:"caller"`
}

// namesKey reports whether the record names the filter's key.
func (f *Filter) namesKey(q *queried) bool {
	for _, k := range append([]string{f.KeyID}, f.AlsoKeyIDs...) {
		if k == q.KeyID || k == q.SourceKeyID || k == q.Alias {
			return true
		}
	}
	return false
}

// match reports whether the record matches f (a group record stands for
// items alike in everything f looks at).
func (f *Filter) match(q *queried) bool {
	if f.KeyID != "" && !f.namesKey(q) {
		return false
	}
	if f.Principal != "" {
		switch {
		case strings.HasPrefix(f.Principal, "uid:"):
			if q.Caller.UID == nil || f.Principal != fmt.Sprintf("uid:%d", *q.Caller.UID) {
				return false
			}
		case strings.HasPrefix(f.Principal, "unit:"):
			if "unit:"+q.Caller.Unit != f.Principal {
				return false
			}
		default:
			return false
		}
	}
	if f.Operation != "" && f.Operation != q.Event {
		return false
	}
	switch f.Result {
	case "":
	case "success":
		if q.Error != "" || q.Type != TypeCall {
			return false
		}
	case "error":
		if q.Error == "" {
			return false
		}
	default:
		if q.Error != f.Result {
			return false
		}
	}
	if !f.Since.IsZero() && q.Time.Before(f.Since) {
		return false
	}
	if !f.Until.IsZero() && !q.Time.Before(f.Until) {
		return false
	}
	return true
}

// Query calls fn with every record of the files that matches f, in order.
func Query(files []string, f Filter, fn func(line []byte) error) error {
	for _, file := range files {
		fh, err := os.Open(file)
		if err != nil {
			return err
		}
		br := bufio.NewReaderSize(fh, 64<<10)
		for {
			line, err := br.ReadSlice('\n')
			if err == io.EOF || (len(line) > 0 && line[0] == 0) { // the end, or crash padding
				break
			}
			if err != nil {
				fh.Close()
				return fmt.Errorf("%s: %w", file, err)
			}
			var q queried
			if json.Unmarshal(line, &q) != nil {
				continue // Verify reports such lines
			}
			if f.match(&q) {
				if err := fn(line[:len(line)-1]); err != nil {
					fh.Close()
					return err
				}
			}
		}
		fh.Close()
	}
	return nil
}
