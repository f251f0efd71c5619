package api

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// What a body must be for Postgres to store it as it came: handlers keep the
// raw body (amendments.request is jsonb), and Postgres parses JSON more
// strictly than encoding/json does.

// maxNumberLen and maxExponent bound how any number may be written, well
// within what Postgres's numeric takes (at most 16,383 digits after the
// point, an exponent within ±1000): no field needs more than a few dozen.
const (
	maxNumberLen = 40
	maxExponent  = 300
)

func checkNumber(path string, n json.Number) error {
	s := n.String()
	_, exp, hasExp := strings.Cut(strings.ToLower(s), "e")
	e, err := strconv.Atoi(exp)
	if len(s) > maxNumberLen || (hasExp && (err != nil || e < -maxExponent || e > maxExponent)) {
		return fieldError(path, fmt.Sprintf("is a number written with more than %d characters or an exponent beyond ±%d", maxNumberLen, maxExponent))
	}
	return nil
}

// loneSurrogate finds a \u escape of half a UTF-16 surrogate pair without its
// other half, and where it is: encoding/json decodes one to U+FFFD, and
// Postgres refuses it.
func loneSurrogate(body []byte) (int, bool) {
	inString := false
	for i := 0; i < len(body); i++ {
		if body[i] == '"' {
			inString = !inString
			continue
		}
		if body[i] != '\\' || !inString {
			continue
		}
		switch r := escapedRune(body, i); {
		case isLowSurrogate(r):
			return i, true
		case r >= 0xD800 && r < 0xDC00:
			if !isLowSurrogate(escapedRune(body, i+6)) {
				return i, true
			}
			i += 11 // the pair
		default:
			i++ // the escaped character (for \u, the u: its hex digits follow)
		}
	}
	return 0, false
}

func isLowSurrogate(r int) bool { return r >= 0xDC00 && r < 0xE000 }

// escapedRune is the code the \uXXXX escape at body[i:] spells; -1 when
// there is none.
func escapedRune(body []byte, i int) int {
	if i+6 > len(body) || body[i] != '\\' || body[i+1] != 'u' {
		return -1
	}
	r, err := strconv.ParseUint(string(body[i+2:i+6]), 16, 16)
	if err != nil {
		return -1
	}
	return int(r)
}
