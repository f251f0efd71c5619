package domain

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The tests' clock stands at noon on 2027-01-10: that day's sweeps are done.
var clockNoon = time.Date(2027, 1, 10, 12, 0, 0, 0, time.UTC)

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

// onTheClock is a monthly contract created on the clock's day, as the store
// reads it: its first period not yet billed (the day's run is past).
func onTheClock(exp string, terms RenewalTerms, changes ...ClockChange) ClockContract {
	return ClockContract{
		Renewal: terms, Bills: true, Changes: changes,
		Billing: BillingTerms{EffectiveDate: d("2027-01-10"), ExpirationDate: d(exp), CycleDay: 10, Period: Monthly},
	}
}

func noticeTerms(months, notice int) RenewalTerms {
	return RenewalTerms{Mode: AutoRenew, TermMonths: months, NoticeDays: notice}
}

func contractsOf(n int, c ClockContract) []ClockContract {
	out := make([]ClockContract, n)
	for i := range out {
		out[i] = c
	}
	return out
}

// Two months of a contract on 1-month terms: each term's end, the days of
// its notice, each period on its first day (the one due on the clock's day
// the next day) and the scheduled change. What the clock's day held has
// happened; to's day counts whatever its time.
func TestClockWorkCountsWhatFallsDueOnTheWay(t *testing.T) {
	seats := ClockChange{Date: d("2027-02-10"), Accepted: true, Period: Monthly}
	c := onTheClock("2027-02-10", noticeTerms(1, 5), seats)
	w := CountClockWork([]ClockContract{c}, clockNoon, at("2027-03-10T00:00:00Z"))
	assert.Equal(t, AdvanceWork{TermEnds: 2, NoticeDays: 10, Periods: 3, Amendments: 1}, w.Work)
	assert.True(t, w.Within())

	// 30 days' notice on 1-month terms: every day of February (28), and
	// from the day after the clock's to the first end.
	c.Renewal.NoticeDays = 30
	assert.Equal(t, AdvanceWork{TermEnds: 2, NoticeDays: 30 + 28, Periods: 3, Amendments: 1},
		CountClockWork([]ClockContract{c}, clockNoon, at("2027-03-10T23:00:00Z")).Work)

	// Within the clock's day nothing more is due.
	assert.Equal(t, AdvanceWork{}, CountClockWork([]ClockContract{c}, clockNoon, at("2027-01-10T23:59:59Z")).Work)
}

func TestClockWorkOfTermsThatDoNotRenew(t *testing.T) {
	to := at("2028-01-10T12:00:00Z")
	expire := onTheClock("2027-07-10", RenewalTerms{Mode: Expire, TermMonths: 12})
	assert.Equal(t, AdvanceWork{TermEnds: 1, Periods: 6}, CountClockWork([]ClockContract{expire}, clockNoon, to).Work, "billed to its expiry, then nothing")

	evergreen := onTheClock("2027-07-10", RenewalTerms{Mode: Evergreen})
	assert.Equal(t, AdvanceWork{Periods: 13}, CountClockWork([]ClockContract{evergreen}, clockNoon, to).Work, "billed on, no term end")

	unbilled := evergreen
	unbilled.Bills = false
	assert.Equal(t, AdvanceWork{}, CountClockWork([]ClockContract{unbilled}, clockNoon, to).Work, "a cancelled schedule bills nothing")

	// A renewal whose new term would end after LastDate is refused: the
	// contract expires there.
	last := onTheClock("2999-12-01", noticeTerms(120, 1))
	last.Billing.EffectiveDate, last.Billing.CycleDay = d("2999-11-01"), 1
	w := CountClockWork([]ClockContract{last}, at("2999-11-20T12:00:00Z"), at("2999-12-31T00:00:00Z"))
	assert.Equal(t, AdvanceWork{TermEnds: 1, NoticeDays: 1, Periods: 1}, w.Work)
}

// Open amendments count as they will apply: a cancellation ends the work of
// its contract on its date, once accepted; a change of renewal terms
// applies from the end of the term after its date, one of billing period
// from its date; one in review counts as approved or as rejected, whichever
// is more work (either may come while the clock advances).
func TestClockWorkFollowsTheOpenAmendments(t *testing.T) {
	to := at("2028-01-10T12:00:00Z")
	yearly := RenewalTerms{Mode: Expire, TermMonths: 12}

	cancel := ClockChange{Date: d("2027-04-10"), Accepted: true, Cancels: true, Period: Monthly}
	assert.Equal(t, AdvanceWork{Periods: 3, Amendments: 1},
		CountClockWork([]ClockContract{onTheClock("2027-07-10", noticeTerms(1, 1), cancel)}, clockNoon, to).Work)
	cancel.Accepted = false
	assert.Equal(t, AdvanceWork{TermEnds: 12, NoticeDays: 12, Periods: 13, Amendments: 1},
		CountClockWork([]ClockContract{onTheClock("2027-02-10", noticeTerms(1, 1), cancel)}, clockNoon, to).Work, "in review, it may be rejected")

	monthly := noticeTerms(1, 1)
	toMonthly := ClockChange{Date: d("2027-03-01"), Accepted: true, Terms: &monthly, Period: Monthly}
	assert.Equal(t, AdvanceWork{TermEnds: 1 + 6, NoticeDays: 1 + 6, Periods: 13, Amendments: 1},
		CountClockWork([]ClockContract{onTheClock("2027-07-10", yearly, toMonthly)}, clockNoon, to).Work,
		"expiring on 2027-07-10 would end its work there; renewing monthly from then, it goes on")
	atTheEnd := toMonthly
	atTheEnd.Date = d("2027-07-10")
	assert.Equal(t, AdvanceWork{TermEnds: 1, Periods: 6, Amendments: 1},
		CountClockWork([]ClockContract{onTheClock("2027-07-10", yearly, atTheEnd)}, clockNoon, to).Work, "dated on the end, it is for the term after")

	toAnnual := ClockChange{Date: d("2027-04-10"), Accepted: true, Period: Annual}
	evergreen := RenewalTerms{Mode: Evergreen}
	assert.Equal(t, AdvanceWork{Periods: 3 + 2, Amendments: 1},
		CountClockWork([]ClockContract{onTheClock("2027-07-10", evergreen, toAnnual)}, clockNoon, to).Work,
		"billed monthly to 2027-04-10, then the rest of the year and the next")

	// In review, a change that would lessen the work may be rejected: the
	// contract counts as without it. One that would add to it counts.
	toAnnual.Accepted, toMonthly.Accepted = false, false
	assert.Equal(t, AdvanceWork{Periods: 13},
		CountClockWork([]ClockContract{onTheClock("2027-07-10", evergreen, toAnnual)}, clockNoon, to).Work, "billed monthly")
	assert.Equal(t, AdvanceWork{TermEnds: 1 + 6, NoticeDays: 1 + 6, Periods: 13, Amendments: 1},
		CountClockWork([]ClockContract{onTheClock("2027-07-10", yearly, toMonthly)}, clockNoon, to).Work, "as approved")
}

// The worst an operator could ask for before the bound: a clock's 100
// contracts on 1-month AUTO_RENEW terms with 30 days' notice, advanced by
// 10 years. Such an advance is refused; it may go 11 days: 200 items on the
// first (each contract's notice try and its first period), 100 notice tries
// on each next one.
func TestTheWorstAdvanceIsRefusedSayingHowFarItMayGo(t *testing.T) {
	full := contractsOf(100, onTheClock("2027-02-10", noticeTerms(1, 30)))
	w := CountClockWork(full, clockNoon, at("2037-01-10T12:00:00Z"))
	assert.Equal(t, AdvanceWork{TermEnds: 12_000, NoticeDays: 358_300, Periods: 12_100}, w.Work)
	assert.False(t, w.Within())
	assert.Equal(t, at("2027-01-21T23:59:59.999999Z"), w.Furthest)

	assert.True(t, CountClockWork(full, clockNoon, w.Furthest).Within(), "the furthest is within")
	assert.False(t, CountClockWork(full, clockNoon, at("2027-01-22T00:00:00Z")).Within(), "a day on is not")
	billed := onTheClock("2027-02-10", noticeTerms(1, 30))
	billed.Billing.BilledThrough = d("2027-02-10") // its first period, on 2027-01-11
	next := CountClockWork(contractsOf(100, billed), w.Furthest, at("2037-01-10T12:00:00Z"))
	assert.Equal(t, at("2027-02-02T23:59:59.999999Z"), next.Furthest, "the next advance goes on from there")

	_, err := CheckClockAdvance("c1", full, clockNoon, at("2037-01-10T12:00:00Z"), WorkUnderWay{})
	require.Error(t, err)
	assert.Equal(t, KindUnprocessable, KindOf(err))
	var refused *TooMuchWork
	require.ErrorAs(t, err, &refused)
	assert.Equal(t, w, refused.Work)
	assert.Equal(t, "to", refused.Err.Field)
	assert.Equal(t, "to 2037-01-10T12:00:00Z: advancing test clock c1 there from 2027-01-10T12:00:00Z would carry out 382400 in all: "+
		"12000 term ends (a renewal or an expiry each), 358300 days of renewal notice (a try to open the renewal each), 12100 billing periods and 0 amendments, "+
		"more than the 1200 one advance may; it may go as far as 2027-01-21T23:59:59.999999Z (the end of 2027-01-21) in one advance, and on from there in the next",
		err.Error())
	_, err = CheckClockAdvance("c1", full, clockNoon, w.Furthest, WorkUnderWay{})
	require.NoError(t, err)
}

// Whatever the first day with work holds, the clock may go through it: it
// could not move otherwise. Here 100 contracts with 13 changes each on one
// day, 1,300 items.
func TestTheFirstDayWithWorkIsAlwaysWithin(t *testing.T) {
	c := onTheClock("2028-01-10", RenewalTerms{Mode: Expire, TermMonths: 12})
	c.Billing.BilledThrough = d("2027-02-10")
	for range 13 {
		c.Changes = append(c.Changes, ClockChange{Date: d("2027-01-20"), Accepted: true, Period: Monthly})
	}
	full := contractsOf(100, c)
	w := CountClockWork(full, clockNoon, at("2027-01-20T12:00:00Z"))
	assert.Equal(t, 1300, w.Work.Total())
	assert.True(t, w.Within())
	w = CountClockWork(full, clockNoon, at("2027-02-12T12:00:00Z"))
	assert.Equal(t, 1400, w.Work.Total(), "and the periods of 2027-02-10")
	assert.False(t, w.Within())
	assert.Equal(t, at("2027-01-20T23:59:59.999999Z"), w.Furthest)

	_, err := CheckAdvanceUnderWay(KindUnprocessable, "testClockId", "these contracts", "c1", full, clockNoon, at("2027-02-12T12:00:00Z"), WorkUnderWay{})
	assert.Equal(t, KindUnprocessable, KindOf(err))
	assert.ErrorContains(t, err, "test clock c1 is advancing to 2027-02-12T12:00:00Z: with these contracts, the rest of its advance, from 2027-01-10T12:00:00Z, "+
		"would carry out 1400 in all")
	_, err = CheckAdvanceUnderWay(KindUnprocessable, "testClockId", "these contracts", "c1", full, clockNoon, at("2027-01-20T12:00:00Z"), WorkUnderWay{})
	assert.NoError(t, err)
}
