package auth

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestCheckDisplayName(t *testing.T) {
	for _, ok := range []string{"Ada Lovelace", "x", strings.Repeat("名", MaxDisplayNameLen)} {
		assert.NoError(t, CheckDisplayName(ok), "%q", ok)
	}
	for bad, why := range map[string]string{
		"":                                       "empty",
		" \t ":                                   "empty",
		"Ada\x00":                                "NUL",
		"\xc3\x28":                               "UTF-8",
		strings.Repeat("a", MaxDisplayNameLen+1): "101 characters",
	} {
		assert.ErrorContains(t, CheckDisplayName(bad), why, "%q", bad)
	}
}

func TestDefaultDisplayNameIsValid(t *testing.T) {
	assert.Equal(t, "submitter key", DefaultDisplayName([]Role{RoleSubmitter}, SourceUser, ""))
	assert.Equal(t, "approver, operator key", DefaultDisplayName([]Role{RoleApprover, RoleOperator}, SourceHMAC, ""))
	long := DefaultDisplayName([]Role{RoleSubmitter}, SourceCustomer, strings.Repeat("9", 200))
	assert.NoError(t, CheckDisplayName(long), "cut to the bound")
	assert.True(t, strings.HasPrefix(long, "Customer 999"))
}
