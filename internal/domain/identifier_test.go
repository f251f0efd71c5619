package domain

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestCheckIdentifierRefusesBlankAndInvisibleText(t *testing.T) {
	for _, ok := range []string{"", "ACC-0000000001", "A000-525", "Kunde Müller 7", "客户-1", "a\u00e9b"} {
		assert.NoError(t, CheckIdentifier(ok), "%q", ok)
	}
	for _, bad := range []string{
		" ", "   ", " ACC-1", "ACC-1 ", // blank, or white space at an end
		"ACC-0000000001\u200b",                           // zero-width space (Cf)
		"ACC\u202e-1",                                    // right-to-left override (Cf)
		"\ufeffACC-1",                                    // byte-order mark (Cf)
		"ACC\u00ad-1",                                    // soft hyphen (Cf)
		"ACC\u2028-1",                                    // line separator (Zl)
		"ACC\u2029-1",                                    // paragraph separator (Zp)
		"ACC\u00a0-1",                                    // no-break space (Zs, not ASCII)
		"ACC\u3000-1",                                    // ideographic space
		"ACC\t-1", "ACC\n-1", "ACC\x7f-1", "ACC\u0085-1", // Cc
	} {
		assert.Error(t, CheckIdentifier(bad), "%q", bad)
	}
}

// A trailing non-ASCII space is white space at the end, not a hidden character.
func TestCheckIdentifierReportsTrailingSpaceAsWhiteSpace(t *testing.T) {
	for _, s := range []string{"ACC-1\u3000", "ACC-1\u00a0", "\u3000ACC-1"} {
		assert.EqualError(t, CheckIdentifier(s), "must not begin or end with white space", "%q", s)
	}
	assert.EqualError(t, CheckIdentifier("\u3000"), "must not be blank")
}

// A zero width joiner or non-joiner is text's own between two letters,
// marks or symbols; anywhere else it only hides.
func TestCheckIdentifierJoiners(t *testing.T) {
	for _, ok := range []string{
		"👩\u200d💻",     // emoji ZWJ sequence (woman technologist)
		"شرکت\u200cما", // Persian with a zero width non-joiner
		"क्\u200dष-1",  // Devanagari: a joiner after the virama (a mark)
		"ACC-👩\u200d💻-1",
	} {
		assert.NoError(t, CheckIdentifier(ok), "%q", ok)
	}
	for _, bad := range []string{
		"\u200dACC-1", "\u200cACC-1", // at the start
		"ACC-1\u200d", "ACC\u200c", // at the end
		"ACC-1\u200d2",     // between digits
		"ACC\u200d-1",      // next to punctuation
		"A\u200d B",        // next to a space
		"A\u200d\u200dB",   // two joiners
		"A\u200c\u200dB",   // a non-joiner and a joiner
		"\u200d", "\u200c", // alone
		"A\u200bB",   // a zero width space stays refused
		"ACC\u202eB", // so does a right-to-left override
		"A\ufeffB",   // and a byte-order mark
	} {
		assert.Error(t, CheckIdentifier(bad), "%q", bad)
	}
	assert.EqualError(t, CheckIdentifier("ACC-1\u200d2"), "may hold a zero width joiner or non-joiner only between two letters, marks or symbols")
}
