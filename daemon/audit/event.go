package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
)

// Record types.
const (
	TypeCall       = "call"       // a request from a caller
	TypeService    = "service"    // something kmsd did by itself
	TypeCheckpoint = "checkpoint" // a MACed mark of the chain
	TypeOpen       = "open"       // the first record of a file
)

// Caller is who made a request, as the kernel said.
type Caller struct {
	UID    uint32
	GID    uint32
	PID    int32
	Exe    string
	Unit   string
	Source string // socket, fuse, kmsd
	// Principal is the caller's name (policy.Principal's String: "uid:N"
	// or "uid:N unit:U"), by which usage counts it; front ends compute it
	// once per connection.
	Principal string
}

// Event is one audit record before it is written. Front ends fill the
// request's facts; the key service fills what it resolved (key, alias,
// grant) through the Event carried by the request's context.
type Event struct {
	Time time.Time
	Type string // TypeCall or TypeService
	Name string // the operation, e.g. Encrypt, or a service event
	// Host names the fleet host that wrote the record (Config.Host; empty
	// outside a fleet).
	Host      string
	RequestID string
	Caller    Caller
	KeyID     string
	// KeyVersion is the version of KeyID's material the request used.
	KeyVersion uint32
	SourceKey  string // ReEncrypt: the key the blob came from
	// SourceKeyVersion is the version of SourceKey the blob was made with.
	SourceKeyVersion uint32
	Alias            string // the alias the caller named, if any
	GrantID          string // the grant that allowed the request, if one did
	Context          map[string]string
	// DestContext is ReEncrypt's destination encryption context.
	DestContext map[string]string
	Error       string // exception name; empty on success
	InBytes     int
	OutBytes    int
	Detail      string // service events: what happened
	Seq         uint64 // set by Writer.Append: the record's number in the trail
	// Count makes this a group record: it stands for Count items of one
	// batch request that are alike in key, operation, encryption context
	// and outcome (Error), and its sizes are their totals. Failed lists,
	// for a group that failed, the items' indexes in the request.
	Count  int
	Failed []int
	// Params is what a management request created or changed, as
	// CloudTrail's requestParameters: the new key's description, a
	// grant's grantee and operations, a policy's digest.
	Params map[string]string
}

// Bounds on what one record carries: a value longer than maxValue, and
// a map (an encryption context, the params) whose encoding passes
// maxMap, are recorded by their SHA-256 digest ("sha256:" and hex), so
// that a request cannot make its record large (contexts and descriptions
// may be kilobytes), and the record still says which value it was.
const (
	maxValue = 256
	maxMap   = 1024
)

// Items is how many requests (or items of a batch) the record stands for.
func (e *Event) Items() int { return max(1, e.Count) }

// appendBody appends the record's JSON object without its closing brace:
// the writer adds seq and prev and closes it. Field order is fixed.
func (e *Event) appendBody(b []byte) []byte {
	b = append(b, `{"time":"`...)
	b = appendTime(b, e.Time)
	b = append(b, `","type":`...)
	b = appendString(b, e.Type)
	b = append(b, `,"event":`...)
	b = appendString(b, e.Name)
	if e.Host != "" {
		b = append(b, `,"host":`...)
		b = appendString(b, e.Host)
	}
	if e.RequestID != "" {
		b = append(b, `,"request_id":`...)
		b = appendString(b, e.RequestID)
	}
	if e.Type == TypeCall {
		b = append(b, `,"caller":{"uid":`...)
		b = strconv.AppendUint(b, uint64(e.Caller.UID), 10)
		b = append(b, `,"gid":`...)
		b = strconv.AppendUint(b, uint64(e.Caller.GID), 10)
		b = append(b, `,"pid":`...)
		b = strconv.AppendInt(b, int64(e.Caller.PID), 10)
		if e.Caller.Exe != "" {
			b = append(b, `,"exe":`...)
			b = appendString(b, e.Caller.Exe)
		}
		if e.Caller.Unit != "" {
			b = append(b, `,"unit":`...)
			b = appendString(b, e.Caller.Unit)
		}
		b = append(b, `},"source":`...)
		b = appendString(b, e.Caller.Source)
	}
	for _, f := range [...]struct{ name, v string }{
		{`,"key_id":`, e.KeyID}, {`,"source_key_id":`, e.SourceKey}, {`,"alias":`, e.Alias},
		{`,"grant_id":`, e.GrantID}, {`,"error":`, e.Error}, {`,"detail":`, e.Detail},
	} {
		if f.v != "" {
			b = append(b, f.name...)
			b = appendString(b, f.v)
		}
	}
	b = appendVersions(b, e.KeyVersion, e.SourceKeyVersion)
	if len(e.Context) > 0 {
		b = appendBounded(b, "context", e.Context)
	}
	if len(e.DestContext) > 0 {
		b = appendBounded(b, "destination_context", e.DestContext)
	}
	if len(e.Params) > 0 {
		b = appendBounded(b, "params", e.Params)
	}
	if e.Type == TypeCall {
		b = append(b, `,"in_bytes":`...)
		b = strconv.AppendInt(b, int64(e.InBytes), 10)
		b = append(b, `,"out_bytes":`...)
		b = strconv.AppendInt(b, int64(e.OutBytes), 10)
	}
	if e.Count > 0 {
		b = append(b, `,"items":`...)
		b = strconv.AppendInt(b, int64(e.Count), 10)
	}
	if len(e.Failed) > 0 {
		b = append(b, `,"failed":[`...)
		for i, n := range e.Failed {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendInt(b, int64(n), 10)
		}
		b = append(b, ']')
	}
	return b
}

// appendVersions appends the non-zero key material versions.
func appendVersions(b []byte, key, source uint32) []byte {
	if key != 0 {
		b = append(b, `,"key_version":`...)
		b = strconv.AppendUint(b, uint64(key), 10)
	}
	if source != 0 {
		b = append(b, `,"source_key_version":`...)
		b = strconv.AppendUint(b, uint64(source), 10)
	}
	return b
}

// appendBounded appends ,"name": and the map m, or, if its encoding
// passes maxMap, ,"name_sha256": and the digest of that encoding.
func appendBounded(b []byte, name string, m map[string]string) []byte {
	start := len(b)
	b = append(append(append(b, `,"`...), name...), `":`...)
	val := len(b)
	b = appendMap(b, m)
	if len(b)-val <= maxMap {
		return b
	}
	sum := sha256.Sum256(b[val:])
	b = append(append(append(b[:start], `,"`...), name...), `_sha256":"`...)
	b = hex.AppendEncode(b, sum[:])
	return append(b, '"')
}

func appendMap(b []byte, m map[string]string) []byte {
	var arr [16]string
	keys := arr[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, k)
		b = append(b, ':')
		b = appendValue(b, m[k])
	}
	return append(b, '}')
}

// appendValue appends v as a JSON string, or, if longer than maxValue,
// "sha256:" and its digest.
func appendValue(b []byte, v string) []byte {
	if len(v) <= maxValue {
		return appendString(b, v)
	}
	sum := sha256.Sum256([]byte(v))
	b = append(b, `"sha256:`...)
	b = hex.AppendEncode(b, sum[:])
	return append(b, '"')
}

// appendString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD,
// control characters and the characters HTML mangles are escaped. Runs of
// plain ASCII, all most fields hold, are copied whole.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		j := i
		for j < len(s) && plain[s[j]] {
			j++
		}
		b = append(b, s[i:j]...)
		if j == len(s) {
			break
		}
		i = j
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			b = append(b, `\ufffd`...)
		} else if r == '\u2028' || r == '\u2029' {
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
		} else {
			b = append(b, s[i:i+n]...)
		}
		i += n
	}
	return append(b, '"')
}

// plain marks the bytes appendString copies as they are.
var plain = func() (t [256]bool) {
	for c := 0x20; c < 0x7f; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// appendTime appends t in UTC as 2006-01-02T15:04:05.000000Z, without the
// general formatter (this is on every request's path).
func appendTime(b []byte, t time.Time) []byte {
	t = t.UTC()
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	us := t.Nanosecond() / 1000
	pad := func(b []byte, v, width int) []byte {
		var tmp [6]byte
		for i := width - 1; i >= 0; i-- {
			tmp[i] = byte('0' + v%10)
			v /= 10
		}
		return append(b, tmp[:width]...)
	}
	b = pad(b, y, 4)
	b = append(b, '-')
	b = pad(b, int(mo), 2)
	b = append(b, '-')
	b = pad(b, d, 2)
	b = append(b, 'T')
	b = pad(b, h, 2)
	b = append(b, ':')
	b = pad(b, mi, 2)
	b = append(b, ':')
	b = pad(b, s, 2)
	b = append(b, '.')
	b = pad(b, us, 6)
	return append(b, 'Z')
}
