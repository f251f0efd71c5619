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
