package domain

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ParseCivilDate takes exactly YYYY-MM-DD; ParseDate, for the one seed
// field typed as a date-time, takes an RFC 3339 date-time too.
func TestParseCivilDateTakesOnlyYYYYMMDD(t *testing.T) {
	got, err := ParseCivilDate("2026-12-06")
	require.NoError(t, err)
	assert.Equal(t, "2026-12-06", got.String())
	for _, s := range []string{"2026-12-06T00:00:00Z", "2026-12-07T00:00:00+14:00", "2026-12-6", "2026-02-30", " 2026-12-06", "20261206", ""} {
		_, err := ParseCivilDate(s)
		if assert.Error(t, err, s) {
			assert.Equal(t, `"`+s+`" is not a date (want YYYY-MM-DD)`, err.Error())
		}
	}
	instant, err := ParseDate("2026-12-07T00:00:00+14:00")
	require.NoError(t, err)
	assert.Equal(t, "2026-12-06", instant.String(), "ParseDate still takes the seed's date-time, as its UTC day")
	_, err = ParseDate("2026-12-6")
	assert.EqualError(t, err, `"2026-12-6" is not a date (want YYYY-MM-DD or an RFC 3339 date-time such as 2026-01-01T00:00:00Z)`, "ParseDate names both forms it takes")
}
