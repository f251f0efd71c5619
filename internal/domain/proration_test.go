package domain

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func d(s string) Date {
	date, err := ParseDate(s)
	if err != nil {
		panic(err)
	}
	return date
}

func TestPeriodContaining(t *testing.T) {
	cases := []struct {
		name       string
		anchor     string
		cycleDay   int
		period     BillingPeriod
		at         string
		start, end string
	}{
		{"mid month", "2026-01-01", 1, Monthly, "2026-03-15", "2026-03-01", "2026-04-01"},
		{"first day of period", "2026-01-01", 1, Monthly, "2026-03-01", "2026-03-01", "2026-04-01"},
		{"last day of period", "2026-01-01", 1, Monthly, "2026-03-31", "2026-03-01", "2026-04-01"},
		{"31st clamps to February 28", "2026-01-31", 31, Monthly, "2026-02-15", "2026-01-31", "2026-02-28"},
		{"31st clamps to February 29 in a leap year", "2028-01-31", 31, Monthly, "2028-02-29", "2028-02-29", "2028-03-31"},
		{"31st clamps to a 30-day month", "2026-01-31", 31, Monthly, "2026-04-30", "2026-04-30", "2026-05-31"},
		{"30th in February then March", "2026-01-30", 30, Monthly, "2026-03-01", "2026-02-28", "2026-03-30"},
		{"cycle day before contract start", "2026-01-20", 5, Monthly, "2026-01-25", "2026-01-05", "2026-02-05"},
		{"quarterly", "2026-01-15", 15, Quarterly, "2026-05-20", "2026-04-15", "2026-07-15"},
		{"quarterly across a year end", "2026-11-01", 1, Quarterly, "2027-01-10", "2026-11-01", "2027-02-01"},
		{"annual", "2024-02-29", 29, Annual, "2026-03-01", "2026-02-28", "2027-02-28"},
		{"annual leap day anchor in leap year", "2024-02-29", 29, Annual, "2028-03-01", "2028-02-29", "2029-02-28"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := PeriodContaining(d(tc.anchor), tc.cycleDay, tc.period, d(tc.at))
			assert.Equal(t, tc.start, p.Start.String())
			assert.Equal(t, tc.end, p.End.String())
		})
	}
}

func TestProrate(t *testing.T) {
	march := Period{Start: d("2026-03-01"), End: d("2026-04-01")}   // 31 days
	feb := Period{Start: d("2026-02-01"), End: d("2026-03-01")}     // 28 days
	leapFeb := Period{Start: d("2028-02-01"), End: d("2028-03-01")} // 29 days
	april := Period{Start: d("2026-04-01"), End: d("2026-05-01")}   // 30 days
	year := Period{Start: d("2026-01-01"), End: d("2027-01-01")}    // 365 days
	quarter := Period{Start: d("2026-01-01"), End: d("2026-04-01")} // 90 days
	cases := []struct {
		name   string
		amount int64
		p      Period
		at     string
		want   int64
	}{
		{"whole period on its first day", 3100, march, "2026-03-01", 3100},
		{"last day charges one day", 3100, march, "2026-03-31", 100},
		{"period end charges nothing", 3100, march, "2026-04-01", 0},
		{"half of a 28-day month", 1000, feb, "2026-02-15", 500},
		{"29-day February", 2900, leapFeb, "2028-02-15", 1500},
		{"30-day month, rounds half up", 1000, april, "2026-04-29", 67},
		{"credit mirrors charge", -1000, april, "2026-04-29", -67},
		{"exact half rounds up", 15, Period{Start: d("2026-01-01"), End: d("2026-01-11")}, "2026-01-06", 8},
		{"exact half credit rounds away from zero", -15, Period{Start: d("2026-01-01"), End: d("2026-01-11")}, "2026-01-06", -8},
		{"annual", 36500, year, "2026-12-01", 3100},
		{"quarterly", 9000, quarter, "2026-03-02", 3000},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Limits{}.OrDefaults().Prorate("amount", tc.amount, tc.p, Period{Start: d(tc.at), End: tc.p.End})
			assert.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestAddMonthsClamped(t *testing.T) {
	assert.Equal(t, "2026-02-28", AddMonthsClamped(2026, time.January, 1, 31).String())
	assert.Equal(t, "2027-01-31", AddMonthsClamped(2026, time.December, 1, 31).String())
	assert.Equal(t, "2025-12-15", AddMonthsClamped(2026, time.January, -1, 15).String())
}

// RFC 3339 allows offsets of at most 23:59; Go's parser takes +24:00 and
// +00:60, which a probe sent as an effective date and a clock's time.
func TestDateTimesRefuseOffsetsOutOfRange(t *testing.T) {
	for _, s := range []string{"2026-03-01T10:00:00+24:00", "2026-03-01T10:00:00-00:60", "2026-03-01T10:00:00+99:99"} {
		_, err := ParseDateTime(s)
		assert.Error(t, err, s)
		_, err = ParseDate(s)
		assert.Error(t, err, s)
	}
	for _, s := range []string{"2026-03-01T10:00:00+23:59", "2026-03-01T10:00:00-12:00", "2026-03-01T10:00:00Z"} {
		_, err := ParseDateTime(s)
		assert.NoError(t, err, s)
	}
}
