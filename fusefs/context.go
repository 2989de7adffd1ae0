package fusefs

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// ParseContext reads an encryption context from one path segment:
// comma-separated key=value pairs, each key and value percent-encoded as
// in a URL path (so "%2C" is a comma, "%3D" an equals sign, "%2F" a slash
// and "%25" a percent sign). Keys must be distinct and non-empty; values
// may be empty. A segment is at most 255 bytes (the kernel's limit on a
// name), which bounds what a context given this way can hold.
func ParseContext(seg string) (map[string]string, error) {
	if seg == "" {
		return nil, errors.New("empty encryption context segment")
	}
	pairs := strings.Split(seg, ",")
	ec := make(map[string]string, len(pairs))
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		if !ok {
			return nil, fmt.Errorf("encryption context pair %q has no '='", p)
		}
		key, err := url.PathUnescape(k)
		if err != nil {
			return nil, fmt.Errorf("encryption context key: %w", err)
		}
		val, err := url.PathUnescape(v)
		if err != nil {
			return nil, fmt.Errorf("encryption context value: %w", err)
		}
		if key == "" {
			return nil, errors.New("encryption context key is empty")
		}
		if _, dup := ec[key]; dup {
			return nil, fmt.Errorf("encryption context key %q appears twice", key)
		}
		ec[key] = val
	}
	return ec, nil
}

// FormatContext writes ec as the path segment ParseContext reads, with
// keys in sorted order.
func FormatContext(ec map[string]string) string {
	keys := make([]string, 0, len(ec))
	for k := range ec {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(escape(k))
		b.WriteByte('=')
		b.WriteString(escape(ec[k]))
	}
	return b.String()
}

// escape percent-encodes what would break a segment: the separators,
// '%', '/', control bytes and anything outside printable ASCII.
func escape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == ',' || c == '=' || c == '%' || c == '/' || c < 0x21 || c > 0x7e {
			fmt.Fprintf(&b, "%%%02X", c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}
