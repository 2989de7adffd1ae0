package render

import (
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/width"
)

// Width is how many terminal columns s takes: two for East Asian wide
// and fullwidth characters (CJK, emoji), none for combining marks, one
// for the rest. The aws CLI counts East
// Asian ambiguous characters (é, ±, …) as two and combining marks as
// one or two, which misaligns its tables on terminals; kmsctl counts them
// as a terminal draws them (testdata/kmsctl-differs.txtar).
func Width(s string) int {
	n := 0
	for _, r := range s {
		n += runeWidth(r)
	}
	return n
}

func runeWidth(r rune) int {
	switch {
	case r == utf8.RuneError:
		return 1
	case unicode.In(r, unicode.Mn, unicode.Me):
		return 0
	}
	switch width.LookupRune(r).Kind() {
	case width.EastAsianWide, width.EastAsianFullwidth:
		return 2
	}
	return 1
}
