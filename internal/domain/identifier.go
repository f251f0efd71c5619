package domain

import (
	"errors"
	"strings"
	"unicode"
)

// InvisibleRune reports a character an identifier must not hold because it
// cannot be seen, or makes text show other than it is: a control (Cc) or
// format (Cf) character (a zero-width space, a right-to-left override, a
// byte-order mark), a line or paragraph separator (Zl, Zp), or a space other
// than ASCII's (a no-break or ideographic space). "ACC-1\u200b" looks like
// "ACC-1" and "ACC\u202e-1" shows reversed; people compare identifiers by
// eye, in lists, logs and the approvers' inbox.
func InvisibleRune(r rune) bool {
	return unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp) ||
		(r > unicode.MaxASCII && unicode.Is(unicode.Zs, r))
}

// CheckIdentifier says why s, when given (not ""), cannot be an identifier
// people name and compare (an account number, a catalog id), or nil: it
// must not be blank, begin or end with white space, or hold an invisible
// character (InvisibleRune). Its length and encoding are its caller's to
// bound.
func CheckIdentifier(s string) error {
	switch {
	case s == "":
		return nil
	case strings.IndexFunc(s, InvisibleRune) >= 0:
		return errors.New("must not contain control, format or invisible separator characters")
	case strings.TrimSpace(s) == "":
		return errors.New("must not be blank")
	case strings.TrimSpace(s) != s:
		return errors.New("must not begin or end with white space")
	}
	return nil
}
