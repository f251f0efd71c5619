package domain

import (
	"errors"
	"strings"
	"unicode"
)

// invisibleRune reports a character an identifier must not hold because it
// cannot be seen, or makes text show other than it is: a control (Cc) or
// format (Cf) character (a zero-width space, a right-to-left override, a
// byte-order mark), a line or paragraph separator (Zl, Zp), or a space other
// than ASCII's (a no-break or ideographic space). "ACC-1\u200b" looks like
// "ACC-1" and "ACC\u202e-1" shows reversed; people compare identifiers by
// eye, in lists, logs and the approvers' inbox. CheckIdentifier lets a
// joiner (joinerAt) through where it shapes text rather than hides in it.
func invisibleRune(r rune) bool {
	return unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp) ||
		(r > unicode.MaxASCII && unicode.Is(unicode.Zs, r))
}

const (
	zwnj = '\u200c' // zero width non-joiner
	zwj  = '\u200d' // zero width joiner
)

// joinable reports a rune a joiner may stand next to: a letter, a mark or a
// symbol (an emoji).
func joinable(r rune) bool { return unicode.In(r, unicode.L, unicode.M, unicode.S) }

// joinerAt reports whether rs[i] is a zero width joiner or non-joiner
// between two joinable runes: ordinary text in many scripts (Persian
// "شرکت‌ما", Devanagari "क्‍ष") and emoji sequences ("👩‍💻") need one
// there. At either end, or next to a digit, punctuation, a space or another
// joiner, it only hides.
func joinerAt(rs []rune, i int) bool {
	return (rs[i] == zwnj || rs[i] == zwj) && i > 0 && i < len(rs)-1 && joinable(rs[i-1]) && joinable(rs[i+1])
}

// CheckIdentifier says why s, when given (not ""), cannot be an identifier
// people name and compare (an account number, a catalog id), or nil: it
// must not be blank, begin or end with white space, or hold an invisible
// character (invisibleRune) but for a joiner between letters, marks or
// symbols (joinerAt). Its length and encoding are its caller's to bound.
func CheckIdentifier(s string) error {
	switch {
	case s == "":
		return nil
	case strings.TrimSpace(s) == "":
		return errors.New("must not be blank")
	case strings.TrimSpace(s) != s:
		// Before the invisible characters: a trailing no-break or
		// ideographic space is white space at the end.
		return errors.New("must not begin or end with white space")
	}
	rs := []rune(s)
	for i, r := range rs {
		if r == zwnj || r == zwj {
			if !joinerAt(rs, i) {
				return errors.New("may hold a zero width joiner or non-joiner only between two letters, marks or symbols")
			}
			continue
		}
		if invisibleRune(r) {
			return errors.New("must not contain control, format or invisible separator characters")
		}
	}
	return nil
}
