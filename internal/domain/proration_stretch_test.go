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
		name          string
		effective     string
		lastBilled    string
		prorated      bool
		billedThrough string
	}{
		{"a period's first day, unbilled", "2026-01-15", "", false, ""},
		{"a period's first day, billed", "2026-01-15", "2026-01-15", true, ""},
		{"a term's start inside the period, unbilled", "2026-07-15", "2026-01-15", false, ""},
		{"a term's start inside the period, billed", "2026-07-15", "2026-07-15", true, ""},
		{"any other day", "2026-03-01", "2026-01-15", true, ""},
		// Billed monthly to 1 March, then annual from there: billing bills
		// the year's stub from 1 March on the lines then in force, so a
		// seat change that day (scheduled with the change of period, say)
		// is not prorated too, until that stub is billed.
		{"where billing goes on inside the period, unbilled", "2026-03-01", "2026-02-01", false, "2026-03-01"},
		{"where billing goes on inside the period, billed", "2026-03-01", "2026-03-01", true, "2027-01-15"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ct := Contract{Lines: before, TermStart: d("2026-07-15")}
			if c.lastBilled != "" {
				ct.LastBilled = d(c.lastBilled)
			}
			if c.billedThrough != "" {
				ct.BilledThrough = d(c.billedThrough)
			}
			lines, err := pricing{ct: ct, after: after, effective: d(c.effective), period: year, field: "lines"}.prorationLines(lim)
			require.NoError(t, err)
			assert.Equal(t, c.prorated, len(lines) > 0, "%+v", lines)
		})
	}
}

// A change is prorated up to where billing stops invoicing the stretch it
// falls in: the contract's expiration, when that comes before the period's
// end and the contract is not evergreen. Billing bills no day past it, and
// a renewal bills its new term on its own at the lines it then has; an
// evergreen contract bills on past its minimum term, so a change there is
// prorated to the period's end.
func TestProrationStopsWhereBillingStops(t *testing.T) {
	lim := (&Catalog{}).MoneyLimits()
	march := Period{Start: d("2027-03-01"), End: d("2027-04-01")}
	year := Period{Start: d("2027-01-15"), End: d("2028-01-15")}
	cases := []struct {
		name                  string
		mode                  string
		period                Period
		effective, expires    string
		before, after, credit int64
		until                 string // the invoice's end
	}{
		// 80000 a year, the term's six months billed 80000 × 181/365: a
		// day's cancellation credits one day, not the rest of the year.
		{"an expiring term ends inside an annual period", Expire, year, "2027-07-14", "2027-07-15", 80000, 0, -219, "2027-07-15"},
		{"an expiring term ends inside a month", Expire, march, "2027-03-14", "2027-03-15", 8000, 0, -258, "2027-03-15"},
		// The new term, from the 15th, is billed at the new lines.
		{"a renewing term ends inside a month", AutoRenew, march, "2027-03-14", "2027-03-15", 3000, 6000, 97, "2027-03-15"},
		{"an evergreen contract bills past its minimum term", Evergreen, march, "2027-03-14", "2027-03-15", 3000, 6000, 1742, "2027-04-01"},
		{"a term ending with the period", Expire, march, "2027-03-14", "2027-04-01", 3100, 0, -1800, "2027-04-01"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ct := Contract{
				Currency: "USD", EffectiveDate: d("2027-01-15"), TermStart: d("2027-01-15"), LastBilled: c.period.Start,
				ExpirationDate: d(c.expires), Renewal: RenewalTerms{Mode: c.mode},
				Lines: []Line{{OfferingID: "off", RecurringAmount: c.before}},
			}
			after := []Line{}
			if c.after > 0 {
				after = []Line{{OfferingID: "off", RecurringAmount: c.after}}
			}
			q, err := pricing{ct: ct, after: after, effective: d(c.effective), period: c.period, field: "lines"}.quote(lim)
			require.NoError(t, err)
			require.NotNil(t, q.InvoicePreview)
			assert.Equal(t, c.credit, q.InvoicePreview.Total)
			assert.Equal(t, c.until, q.InvoicePreview.Period.End.String())
			assert.Equal(t, d(c.effective).DaysUntil(d(c.until)), q.Proration[0].Days)
		})
	}
}

// A change within the stretch invoiced last is prorated to where that
// invoice ends, whatever the contract's terms say since: a contract that
// became evergreen after its last stub was billed to its old expiration
// is billed the rest of that cycle anew from there, and one that stopped
// being evergreen after a whole cycle was billed paid for it all.
func TestProrationFollowsWhatWasInvoicedWhenTheTermsChangedSince(t *testing.T) {
	lim := (&Catalog{}).MoneyLimits()
	june := Period{Start: d("2027-06-01"), End: d("2027-07-01")}
	cases := []struct {
		name          string
		mode          string
		expires       string
		billedThrough string
		credit        int64
		until         string
	}{
		// Billed to 15 June as an expiring term, then made evergreen.
		{"made evergreen after a stub was billed", Evergreen, "2027-06-15", "2027-06-15", -500, "2027-06-15"},
		// Billed for all of June as evergreen, then set to expire on the 15th.
		{"no longer evergreen after the whole cycle was billed", Expire, "2027-06-15", "2027-07-01", -2100, "2027-07-01"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ct := Contract{
				Currency: "USD", EffectiveDate: d("2027-01-01"), TermStart: d("2027-01-01"),
				LastBilled: june.Start, BilledThrough: d(c.billedThrough), ExpirationDate: d(c.expires), Renewal: RenewalTerms{Mode: c.mode},
				Lines: []Line{{OfferingID: "off", RecurringAmount: 3000}},
			}
			q, err := pricing{ct: ct, after: []Line{}, effective: d("2027-06-10"), period: june, field: "lines"}.quote(lim)
			require.NoError(t, err)
			require.NotNil(t, q.InvoicePreview)
			assert.Equal(t, c.credit, q.InvoicePreview.Total)
			assert.Equal(t, c.until, q.InvoicePreview.Period.End.String())
		})
	}
}

// A change is prorated only over what billing invoices: a stretch billing
// will never invoice, because the contract's payment schedule is
// Terminated or was restarted after the stretch began (a missed period is
// never back-billed), is prorated over the part already invoiced, here
// none. A cancellation then credits nothing for days never billed, and a
// seat increase charges nothing for a period whose base was never billed;
// an early-termination fee is still owed. Within an invoiced stretch, and
// in one a restarted schedule bills, proration is as for any schedule.
func TestProrationCoversOnlyWhatTheScheduleBills(t *testing.T) {
	lim := (&Catalog{}).MoneyLimits()
	feb := Period{Start: d("2026-02-01"), End: d("2026-03-01")} // 28 days
	five := []Line{{OfferingID: "off", RecurringAmount: 8000}}
	twenty := []Line{{OfferingID: "off", RecurringAmount: 30500}}
	fee := []TerminationCharge{{ID: 7, StartMonth: 1, EndMonth: 36, Amount: 25000, Currency: "USD"}}
	cases := []struct {
		name        string
		schedule    string
		resumesOn   string
		termStart   string
		billed      string // the month invoiced last: "jan", "feb" or none
		effective   string
		after       []Line
		charges     []TerminationCharge
		proration   int64
		invoiced    int64 // the invoice preview's total; 0 for none
		invoiceDays int
	}{
		// Hostile probe A: January billed, schedule cancelled, contract
		// cancelled on 10 February: February was never billed.
		{"cancelled in a period a Terminated schedule left unbilled", ScheduleTerminated, "", "", "jan", "2026-02-10", []Line{}, nil, 0, 0, 0},
		{"the fee is still owed", ScheduleTerminated, "", "", "jan", "2026-02-10", []Line{}, fee, 0, 25000, 0},
		{"more seats while Terminated", ScheduleTerminated, "", "", "", "2026-02-10", twenty, nil, 0, 0, 0},
		// Hostile probe B: restarted on 10 February, February missed.
		{"more seats after a restart inside the period", ScheduleActive, "2026-02-10", "", "", "2026-02-10", twenty, nil, 0, 0, 0},
		{"cancelled after a restart inside the period", ScheduleActive, "2026-02-10", "", "jan", "2026-02-20", []Line{}, nil, 0, 0, 0},
		// What was invoiced before the schedule stopped is prorated as ever:
		// 8000 × 19/28 of a billed February.
		{"cancelled within the stretch invoiced before the cancel", ScheduleTerminated, "", "", "feb", "2026-02-10", []Line{}, nil, -5429, -5429, 19},
		// A restart on the period's first day bills it; so does one before a
		// term's start inside the period, from that start.
		{"more seats after a restart on the period's first day", ScheduleActive, "2026-02-01", "", "jan", "2026-02-10", twenty, nil, 15267, 15267, 19},
		{"more seats in a term that started after the restart", ScheduleActive, "2026-02-10", "2026-02-15", "jan", "2026-02-20", twenty, nil, 7233, 7233, 9},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ct := Contract{
				Currency: "USD", EffectiveDate: d("2026-01-01"), TermStart: d("2026-01-01"), ExpirationDate: d("2027-01-01"),
				Lines: five, PaymentSchedule: PaymentSchedule{Status: c.schedule},
			}
			switch c.billed {
			case "jan":
				ct.LastBilled, ct.BilledThrough = d("2026-01-01"), feb.Start
			case "feb":
				ct.LastBilled, ct.BilledThrough = feb.Start, feb.End
			}
			if c.resumesOn != "" {
				ct.PaymentSchedule.ResumesOn = d(c.resumesOn)
			}
			if c.termStart != "" {
				ct.TermStart = d(c.termStart)
			}
			q, err := pricing{ct: ct, after: c.after, effective: d(c.effective), period: feb, charges: c.charges, field: "lines"}.quote(lim)
			require.NoError(t, err)
			assert.Equal(t, c.proration, q.ProrationTotal)
			if c.proration == 0 {
				assert.Empty(t, q.Proration, "no proration line for days never billed")
			} else {
				require.Len(t, q.Proration, 1)
				assert.Equal(t, c.invoiceDays, q.Proration[0].Days)
			}
			if c.invoiced == 0 {
				assert.Nil(t, q.InvoicePreview, "nothing to invoice")
				return
			}
			require.NotNil(t, q.InvoicePreview)
			assert.Equal(t, c.invoiced, q.InvoicePreview.Total)
			assert.Equal(t, c.invoiceDays, q.InvoicePreview.Period.Days())
		})
	}
}
