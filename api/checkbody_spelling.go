package api

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// checkSpelling refuses a key that names a field only when case is ignored:
// encoding/json would decode it into that field, past the field's limits,
// which are found by the path as spelt. One lookup a key, so that a body of
// many unknown keys costs no more than its length.
func (w *walker) checkSpelling(path string) error {
	if _, known := w.schema[path]; known {
		return nil
	}
	if field, ok := w.spelling[foldedPath(path)]; ok {
		return fieldError(path, "must be spelt "+field)
	}
	return nil
}

// foldedPath is path with every letter replaced by the first of the letters
// Unicode folds together with it (unicode.SimpleFold's orbit), as
// encoding/json matches keys to fields: two paths are equal when case is
// ignored exactly when their folded paths are (K, k and the Kelvin sign
// alike).
func foldedPath(path string) string {
	var b strings.Builder
	b.Grow(len(path))
	for i := 0; i < len(path); i++ {
		c := path[i]
		if c >= utf8.RuneSelf {
			break
		}
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A' // an ASCII letter's orbit starts with its upper case
		}
		b.WriteByte(c)
	}
	for _, r := range path[b.Len():] {
		least := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			least = min(least, f)
		}
		b.WriteRune(least)
	}
	return b.String()
}
