package store

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/contractd/contractd/internal/domain"
)

// A clock's daily sweep runs on a day after the last it swept, and never
// on one whose sweep time the clock has passed: what became due after
// that time waits for the next day's, as it would on the wall clock.
func TestFirstSweepDay(t *testing.T) {
	day := func(s string) domain.Date { d, err := domain.ParseDate(s); assert.NoError(t, err); return d }
	at := func(s string) time.Time { v, err := time.Parse(time.RFC3339, s); assert.NoError(t, err); return v }
	cases := []struct {
		name  string
		swept string
		now   string
		want  string
	}{
		{"the next day after the last swept", "2027-01-10", "2027-01-10T12:00:00Z", "2027-01-11"},
		{"today's sweep is still to come", "2027-01-09", "2027-01-10T00:10:00Z", "2027-01-10"},
		{"today's sweep is now", "2027-01-09", "2027-01-10T00:30:00Z", "2027-01-10"},
		{"today's sweep time has passed", "2027-01-09", "2027-01-10T00:31:00Z", "2027-01-11"},
		{"days passed with nothing due are not swept after", "2027-01-10", "2027-03-05T09:00:00Z", "2027-03-06"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assert.Equal(t, day(c.want), firstSweepDay(day(c.swept), at(c.now), billingRunTime))
		})
	}
}
