package rules

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestExpiresAfterIsBounded(t *testing.T) {
	for _, bad := range []string{"1ns", "999ms", "91d", "100000d", "9999999999999999999d", "2161h", "-1h", "0d"} {
		_, err := Compile([]Rule{{ID: "r", When: "true", ExpiresAfter: bad}})
		assert.ErrorContains(t, err, "expiresAfter", bad)
	}
	for _, good := range []string{"1s", "72h", "90d", "1h30m"} {
		_, err := Compile([]Rule{{ID: "r", When: "true", ExpiresAfter: good}})
		assert.NoError(t, err, good)
	}
}

// A rule stored before expiresAfter had bounds keeps working, within them:
// refusing it would fail every change the tenant submits.
func TestStoredRulesAreBroughtWithinTheBounds(t *testing.T) {
	for stored, want := range map[string]time.Duration{"1ns": MinExpiry, "100000d": MaxExpiry, "9999999999999999999d": MaxExpiry, "72h": 72 * time.Hour} {
		set, err := CompileStored([]Rule{{ID: "r", When: "true", ExpiresAfter: stored}})
		require.NoError(t, err, stored)
		_, expiry, matched := set.Match(Facts{})
		assert.True(t, matched)
		assert.Equal(t, want, expiry, stored)
	}
}
