package awsjson

import (
	"errors"
	"fmt"
	"unicode/utf8"
)

// ErrNotText marks JSON that does not hold text: bytes that are not
// UTF-8, or a \u escape of half a surrogate pair. Go's decoder would read
// either as U+FFFD, so that different bytes from the caller became the
// same string (two encryption contexts that decrypt each other's
// ciphertexts); kmsd refuses them instead.
var ErrNotText = errors.New("not valid UTF-8 text")

// CheckText reports whether a JSON document is text that decodes without
// replacement: valid UTF-8, and every \uD800–\uDFFF escape half of a pair.
// It does not check the rest of the syntax.
func CheckText(doc []byte) error {
	if !utf8.Valid(doc) {
		i := firstInvalid(doc)
		return fmt.Errorf("%w: byte %d (0x%02x) begins no UTF-8 character", ErrNotText, i, doc[i])
	}
	inString := false
	for i := 0; i < len(doc); i++ {
		c := doc[i]
		switch {
		case c == '"':
			inString = !inString
		case c == '\\' && inString && i+1 < len(doc):
			i++
			if doc[i] != 'u' {
				continue
			}
			r, ok := hex4(doc, i+1)
			if !ok || r < 0xd800 || r > 0xdfff {
				continue
			}
			low, okLow := rune(0), false
			if r <= 0xdbff && i+6 < len(doc) && doc[i+5] == '\\' && doc[i+6] == 'u' {
				low, okLow = hex4(doc, i+7)
			}
			if !okLow || low < 0xdc00 || low > 0xdfff {
				return fmt.Errorf("%w: \\u%04X at byte %d is half of a surrogate pair", ErrNotText, r, i-1)
			}
			i += 10 // both escapes; the loop's i++ steps past the last digit
		}
	}
	return nil
}

// hex4 reads the four hex digits at doc[at:].
func hex4(doc []byte, at int) (rune, bool) {
	if at+4 > len(doc) {
		return 0, false
	}
	var r rune
	for _, c := range doc[at : at+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// firstInvalid is the offset of the first byte of b that is not part of
// a UTF-8 character.
func firstInvalid(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return len(b)
}
