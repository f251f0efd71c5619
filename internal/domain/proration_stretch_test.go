package domain

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A change on the first day of a stretch billing invoices on its own (a
// period's first day, or a term's start inside a period) prorates nothing
// while that stretch is unbilled: its billing, in advance, bills it on the
// new lines. Once billed, the change charges the stretch's difference.
func TestProrationOnTheFirstDayOfAStretch(t *testing.T) {
	lim := (&Catalog{}).MoneyLimits()
	before := []Line{{OfferingID: "off", RecurringAmount: 12000}}
	after := []Line{{OfferingID: "off", RecurringAmount: 24000}}
	year := Period{Start: d("2026-01-15"), End: d("2027-01-15")} // an annual period, renewed mid-way on 15 July
	cases := []struct {
		name       string
		effective  string
		lastBilled string
		prorated   bool
	}{
		{"a period's first day, unbilled", "2026-01-15", "", false},
		{"a period's first day, billed", "2026-01-15", "2026-01-15", true},
		{"a term's start inside the period, unbilled", "2026-07-15", "2026-01-15", false},
		{"a term's start inside the period, billed", "2026-07-15", "2026-07-15", true},
		{"any other day", "2026-03-01", "2026-01-15", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ct := Contract{Lines: before, TermStart: d("2026-07-15")}
			if c.lastBilled != "" {
				ct.LastBilled = d(c.lastBilled)
			}
			lines, err := pricing{ct: ct, after: after, effective: d(c.effective), period: year, field: "lines"}.prorationLines(lim)
			require.NoError(t, err)
			assert.Equal(t, c.prorated, len(lines) > 0, "%+v", lines)
		})
	}
}
