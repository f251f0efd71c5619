package domain

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNextTermEndKeepsTheDayOfTheTerm(t *testing.T) {
	cases := []struct {
		name, start, end string
		months           int
		want             string
	}{
		{"a leap day's year ends on Feb 28", "2023-11-29", "2024-02-29", 12, "2025-02-28"},
		{"a year from Feb 28 ends on Feb 28, not the leap day", "2023-02-28", "2024-02-28", 12, "2025-02-28"},
		{"a term from the 31st that ended on Feb 29 goes back to the 31st", "2024-01-31", "2024-02-29", 1, "2024-03-31"},
		{"a term from the 31st that ended on Feb 28 goes back to the 31st", "2023-01-31", "2023-02-28", 1, "2023-03-31"},
		{"a term from the 30th goes back to the 30th", "2023-11-30", "2024-02-29", 3, "2024-05-30"},
		{"a month end shorter than the start clamps again", "2024-03-31", "2024-04-30", 1, "2024-05-31"},
		{"from the 31st to a 30-day month", "2024-02-29", "2024-03-31", 1, "2024-04-30"},
		{"a year of month ends", "2024-01-31", "2024-04-30", 12, "2025-04-30"},
		{"a day that is not a month end stays", "2024-01-31", "2024-03-30", 12, "2025-03-30"},
		{"mid-month", "2024-01-15", "2025-01-15", 12, "2026-01-15"},
		{"across a year end", "2024-11-30", "2024-12-31", 1, "2025-01-31"},
	}
	for _, c := range cases {
		assert.Equal(t, d(c.want), NextTermEnd(d(c.start), d(c.end), c.months), c.name)
	}
}

// Monthly terms renewed from a contract started on Jan 31 end on every
// month's last day.
func TestMonthlyTermsFromThe31stEndOnMonthEnds(t *testing.T) {
	start, end := d("2024-01-31"), d("2024-02-29")
	var ends []string
	for range 6 {
		start, end = end, NextTermEnd(start, end, 1)
		ends = append(ends, end.String())
	}
	assert.Equal(t, []string{"2024-03-31", "2024-04-30", "2024-05-31", "2024-06-30", "2024-07-31", "2024-08-31"}, ends)
}

func TestRenewalTermsDefaults(t *testing.T) {
	assert.Equal(t, RenewalTerms{Mode: AutoRenew, TermMonths: 12, NoticeDays: 30}, RenewalTerms{Mode: AutoRenew}.WithDefaults())
	assert.Equal(t, DefaultRenewalTerms, RenewalTerms{Mode: Expire}.WithDefaults(), "terms left out are the defaults, whatever the mode")
	given := RenewalTerms{Mode: AutoRenew, TermMonths: 3, UpliftBasisPoints: -200, NoticeDays: 7}
	assert.Equal(t, given, given.WithDefaults())
}

func TestRenewalTermsBounds(t *testing.T) {
	ok := RenewalTerms{Mode: AutoRenew, TermMonths: 12, NoticeDays: 30}
	with := func(change func(*RenewalTerms)) RenewalTerms {
		t := ok
		change(&t)
		return t
	}
	valid := []RenewalTerms{
		ok, with(func(t *RenewalTerms) { t.Mode = Evergreen }),
		with(func(t *RenewalTerms) { t.TermMonths = 1 }), with(func(t *RenewalTerms) { t.TermMonths = 120 }),
		with(func(t *RenewalTerms) { t.UpliftBasisPoints = -10000 }), with(func(t *RenewalTerms) { t.UpliftBasisPoints = 10000 }),
		with(func(t *RenewalTerms) { t.NoticeDays = 1 }), with(func(t *RenewalTerms) { t.NoticeDays = 365 }),
	}
	for _, terms := range valid {
		assert.NoError(t, terms.Validate("renewal"), "%+v", terms)
	}
	invalid := []struct {
		field string
		terms RenewalTerms
	}{
		{"renewal.mode", with(func(t *RenewalTerms) { t.Mode = "auto_renew" })},
		{"renewal.termMonths", with(func(t *RenewalTerms) { t.TermMonths = 0 })},
		{"renewal.termMonths", with(func(t *RenewalTerms) { t.TermMonths = 121 })},
		{"renewal.upliftBasisPoints", with(func(t *RenewalTerms) { t.UpliftBasisPoints = -10001 })},
		{"renewal.upliftBasisPoints", with(func(t *RenewalTerms) { t.UpliftBasisPoints = 10001 })},
		{"renewal.noticeDays", with(func(t *RenewalTerms) { t.NoticeDays = 0 })},
		{"renewal.noticeDays", with(func(t *RenewalTerms) { t.NoticeDays = -1 })},
		{"renewal.noticeDays", with(func(t *RenewalTerms) { t.NoticeDays = 366 })},
	}
	for _, c := range invalid {
		var de *Error
		require.True(t, errors.As(c.terms.Validate("renewal"), &de), "%+v", c.terms)
		assert.Equal(t, KindInvalid, de.Kind)
		assert.Equal(t, c.field, de.Field, "%+v", c.terms)
	}
}

func price(n int64) *int64 { return &n }

// termsContract is timelineContract renewing every year at +3.5 %, its
// term ending on 2027-01-01. The team line keeps its own unit prices; the
// add-on line was stored before lines kept theirs, and takes the catalog's.
func termsContract() Contract {
	ct := timelineContract()
	ct.ExpirationDate, ct.TermStart = d("2027-01-01"), ct.EffectiveDate
	ct.Renewal = RenewalTerms{Mode: AutoRenew, TermMonths: 12, UpliftBasisPoints: 350, NoticeDays: 30}
	ct.Lines[0].Products = []ProductQuantity{{ProductID: "seat", Quantity: 5, UnitPrice: price(1500)}, {ProductID: "tb", Quantity: 1, UnitPrice: price(500)}}
	return ct
}

// upliftedRecurring is termsContract's recurring amount renewed: each unit
// price uplifted on its own, half away from zero (1552.5 → 1553, 517.5 →
// 518, the add-on's 310.5 → 311).
const upliftedRecurring = 5*1553 + 518 + 2*311

func renewalOf(ct Contract) Change {
	return Change{Action: Renewal, ContractID: ct.ID, EffectiveDate: ct.ExpirationDate}
}

func TestPlanRenewalUpliftsPricesAndStartsANewTerm(t *testing.T) {
	ct := termsContract()
	q, err := PlanRenewal(timelineCatalog(), ct, d("2027-01-01"))
	require.NoError(t, err)
	assert.Equal(t, d("2027-01-01"), q.EffectiveDate)
	assert.Equal(t, &RenewalQuote{TermStart: d("2027-01-01"), TermEnd: d("2028-01-01"), UpliftBasisPoints: 350}, q.Renewal)
	assert.Equal(t, []ProductQuantity{{ProductID: "seat", Quantity: 5, UnitPrice: price(1553)}, {ProductID: "tb", Quantity: 1, UnitPrice: price(518)}}, q.LinesAfter[0].Products)
	assert.EqualValues(t, 5*1553+518, q.LinesAfter[0].RecurringAmount)
	assert.Equal(t, []ProductQuantity{{ProductID: "backup", Quantity: 2, UnitPrice: price(311)}}, q.LinesAfter[1].Products, "priced from the catalog, then uplifted")
	assert.EqualValues(t, upliftedRecurring, q.RecurringAfter)
	assert.EqualValues(t, upliftedRecurring-8600, q.RecurringDelta)
	assert.Empty(t, q.Proration, "the renewed term is billed from its start, nothing is prorated")
	assert.Zero(t, q.ProrationTotal)
	assert.Nil(t, q.InvoicePreview, "a renewal invoices nothing when it applies")
	assert.False(t, q.CancelsContract)
	assert.Equal(t, []ProductQuantity{{ProductID: "seat", Quantity: 5, UnitPrice: price(1500)}, {ProductID: "tb", Quantity: 1, UnitPrice: price(500)}},
		ct.Lines[0].Products, "the contract's own lines are left as they are")

	ct.Renewal.UpliftBasisPoints = -350
	q, err = PlanRenewal(timelineCatalog(), ct, d("2027-01-01"))
	require.NoError(t, err)
	assert.EqualValues(t, 5*1448+483+2*290, q.RecurringAfter, "1447.5 → 1448, 482.5 → 483, 289.5 → 290")
}

// A line whose unit prices are unknown, its offering gone from the
// catalog, is uplifted as a whole.
func TestUpliftLinesWithoutUnitPrices(t *testing.T) {
	gone := Line{OfferingID: "retired", RateID: "m", Products: []ProductQuantity{{ProductID: "seat", Quantity: 3}}, RecurringAmount: 1001}
	lines := PricedLines(timelineCatalog(), []Line{gone})
	require.Nil(t, lines[0].Products[0].UnitPrice)
	after, err := UpliftLines(timelineCatalog().MoneyLimits(), lines, 350, "lines")
	require.NoError(t, err)
	assert.EqualValues(t, 1036, after[0].RecurringAmount, "1036.035 → 1036")
	_, err = UpliftLines(Limits{MaxAmount: 1035}, lines, 350, "lines")
	assert.Error(t, err, "beyond the tenant's amount limit")
}

func TestPlanRenewalRefusals(t *testing.T) {
	expiring, cancelled := termsContract(), termsContract()
	expiring.Renewal.Mode = Expire
	cancelled.Status = ContractCancelled
	cases := map[string]struct {
		ct   Contract
		date string
	}{
		"not auto-renewing": {expiring, "2027-01-01"},
		"not its term end":  {termsContract(), "2026-12-31"},
		"not active":        {cancelled, "2027-01-01"},
	}
	for name, c := range cases {
		_, err := PlanRenewal(timelineCatalog(), c.ct, d(c.date))
		assert.Equal(t, KindConflict, KindOf(err), "%s: %v", name, err)
	}
}

func rebaseTerms(ct Contract, tl []Pending) []Rebased {
	return Rebase(timelineCatalog(), ct, tl, d(timelineToday), nil, func(Pending) CrossgradeFacts { return CrossgradeFacts{} })
}

func endOfTermChange(ch Change) Change {
	ch.EffectiveDate, ch.RelativeEffectiveDate = Date{}, EndOfTerm
	return ch
}

// planTerms plans ch against ct after timeline, as of timelineToday, with
// an early-termination charge that any cancellation before the end would
// owe.
func planTerms(ct Contract, timeline []Pending, ch Change) (Quote, error) {
	charges := []TerminationCharge{{ID: 1, StartMonth: 0, EndMonth: 120, Amount: 9900, Currency: "USD"}}
	return PlanOnTimeline(Preflight{Catalog: timelineCatalog(), Contract: ct, Change: ch, Today: d(timelineToday), Charges: charges}, timeline)
}

func TestCancellationAtTheEndOfTermOwesNothingAndGoesBeforeTheRenewal(t *testing.T) {
	ct := termsContract()
	renewal := pending(t, ct, nil, "renewal", StatusScheduled, 1, renewalOf(ct))
	early, err := planTerms(ct, nil, cancellationOn("2026-12-01"))
	require.NoError(t, err)
	require.NotNil(t, early.TerminationFee, "the charge applies before the end")

	ch := endOfTermChange(cancellationOn(timelineToday))
	q, err := planTerms(ct, []Pending{renewal}, ch)
	require.NoError(t, err)
	assert.Equal(t, d("2027-01-01"), q.EffectiveDate)
	assert.True(t, q.CancelsContract)
	assert.Nil(t, q.TerminationFee, "the minimum term is served")
	assert.Empty(t, q.Proration)
	assert.Nil(t, q.InvoicePreview)
	assert.EqualValues(t, 8600, q.RecurringBefore, "priced on the term that ends, not the renewed one")

	cancel := Pending{ID: "cancel", Status: StatusScheduled, Seq: 2, Quote: q, Change: &ch}
	tl := []Pending{renewal, cancel}
	renewalFailsAfter(t, ct, tl, "cancel")
	assert.Equal(t, "cancel", Project(ct, tl, d("2027-01-01")).CancelledBy)
}

// renewalFailsAfter sorts tl, checks that the renewal comes after first,
// and that re-basing keeps first and fails the renewal.
func renewalFailsAfter(t *testing.T, ct Contract, tl []Pending, first string) {
	t.Helper()
	SortTimeline(tl)
	require.Equal(t, []string{first, "renewal"}, ids(tl))
	rebased := rebaseTerms(ct, tl)
	require.Len(t, rebased, 2)
	assert.NoError(t, rebased[0].Err)
	assert.Equal(t, KindConflict, KindOf(rebased[1].Err), "the renewal fails: %v", rebased[1].Err)
}

func TestChangeAtTheEndOfTermAppliesToTheRenewedTerm(t *testing.T) {
	ct := termsContract()
	renewal := pending(t, ct, nil, "renewal", StatusScheduled, 1, renewalOf(ct))
	ch := endOfTermChange(seatsOn("10", timelineToday))
	q, err := planTerms(ct, []Pending{renewal}, ch)
	require.NoError(t, err)
	assert.Equal(t, d("2027-01-01"), q.EffectiveDate, "dated the old expiration")
	assert.EqualValues(t, 2, q.BaseVersion, "planned on the renewed contract")
	assert.EqualValues(t, upliftedRecurring, q.RecurringBefore)
	assert.Equal(t, renewal.Quote.LinesAfter, q.LinesBefore)
	assert.Equal(t, int64(10), seatCount(t, q.LinesAfter))
	assert.Zero(t, q.ProrationTotal, "the renewed term is billed from its start")

	tl := []Pending{{ID: "seats", Status: StatusScheduled, Seq: 2, Quote: q, Change: &ch}, renewal}
	SortTimeline(tl)
	assert.Equal(t, []string{"renewal", "seats"}, ids(tl), "the renewal first")

	expiring := termsContract()
	expiring.Renewal.Mode = Expire
	_, err = planTerms(expiring, nil, ch)
	assert.Equal(t, KindUnprocessable, KindOf(err), "an expiring contract takes only a cancellation at its end: %v", err)
	_, err = planTerms(expiring, nil, endOfTermChange(cancellationOn(timelineToday)))
	assert.NoError(t, err)
}

func termsChangeOn(on string, terms RenewalTerms) Change {
	return Change{Action: RenewalTermsChange, ContractID: "c", EffectiveDate: d(on), Renewal: &terms}
}

// A terms change before the end sets the terms the renewal is planned on;
// the renewal moves the term and uplifts the prices.
func TestProjectAppliesATermsChangeThenARenewal(t *testing.T) {
	ct := termsContract()
	longer := RenewalTerms{Mode: AutoRenew, TermMonths: 24, UpliftBasisPoints: 500, NoticeDays: 60}
	var tl []Pending
	tl = append(tl, pending(t, ct, tl, "terms", StatusScheduled, 1, termsChangeOn("2026-06-01", longer)))
	tl = append(tl, pending(t, ct, tl, "renewal", StatusScheduled, 2, renewalOf(ct)))

	changed := Project(ct, tl, d("2026-06-01")).Contract
	assert.Equal(t, longer, changed.Renewal)
	assert.EqualValues(t, 2, changed.Version)
	assert.EqualValues(t, 8600, changed.RecurringAmount, "the lines stay")
	assert.Equal(t, d("2027-01-01"), changed.ExpirationDate)
	assert.Equal(t, d("2026-01-01"), Project(ct, tl, d("2026-12-31")).Contract.TermStart)

	renewed := Project(ct, tl, d("2027-01-01")).Contract
	assert.Equal(t, d("2027-01-01"), renewed.TermStart)
	assert.Equal(t, d("2029-01-01"), renewed.ExpirationDate)
	assert.EqualValues(t, 5*1575+525+2*315, renewed.RecurringAmount, "uplifted 5 %")
	assert.EqualValues(t, 3, renewed.Version)
}

// A renewal opened before the contract was set to expire no longer holds.
func TestRebaseFailsARenewalOnceTheContractExpires(t *testing.T) {
	ct := termsContract()
	tl := []Pending{pending(t, ct, nil, "renewal", StatusScheduled, 1, renewalOf(ct))}
	tl = append(tl, pending(t, ct, tl, "terms", StatusScheduled, 2, termsChangeOn("2026-06-01", RenewalTerms{Mode: Expire, TermMonths: 12})))
	renewalFailsAfter(t, ct, tl, "terms")
}

// A change at the end of the term keeps its date when re-priced after the
// renewal: the request names no date, and the renewed projection's term
// ends a year later.
func TestRebaseKeepsAChangeAtTheEndOfTermOnItsDate(t *testing.T) {
	ct := termsContract()
	renewal := pending(t, ct, nil, "renewal", StatusScheduled, 1, renewalOf(ct))
	seats := pending(t, ct, []Pending{renewal}, "seats", StatusScheduled, 2, endOfTermChange(seatsOn("10", timelineToday)))
	require.True(t, seats.Change.EffectiveDate.IsZero(), "kept as asked")

	rebased := rebaseTerms(ct, []Pending{renewal, seats})
	require.NoError(t, rebased[1].Err)
	assert.Equal(t, d("2027-01-01"), rebased[1].Quote.EffectiveDate)
	assert.False(t, rebased[1].Changed, "nothing moved under it")
}

// A contract that started on Feb 29 renews on Feb 28 in common years and
// on Feb 29 again in the next leap year, however many renewals lie between.
func TestRenewalsKeepTheLeapDayAnchor(t *testing.T) {
	start, end := NewDate(2024, 2, 29), NewDate(2025, 2, 28)
	var ends []string
	for range 4 {
		end = NextTermEnd(start, end, 12)
		ends = append(ends, end.String())
	}
	assert.Equal(t, []string{"2026-02-28", "2027-02-28", "2028-02-29", "2029-02-28"}, ends)
}

// A change at the end of a term whose renewal would end after LastDate
// applies to a term that never starts: refused, but for a cancellation.
// The terms that count are those the timeline gives the contract by then.
func TestEndOfTermNeedsARenewalBeforeTheLastDate(t *testing.T) {
	ct := termsContract()
	ct.ExpirationDate = d("2999-01-01")
	seats := endOfTermChange(seatsOn("10", timelineToday))
	_, err := planTerms(ct, nil, seats)
	require.Equal(t, KindUnprocessable, KindOf(err), "renewed to 3000-01-01: %v", err)
	assert.Contains(t, err.Error(), "its new term would end on 3000-01-01, after 2999-12-31")
	_, err = planTerms(ct, nil, endOfTermChange(cancellationOn(timelineToday)))
	assert.NoError(t, err, "a cancellation comes before the renewal")

	shorter := RenewalTerms{Mode: AutoRenew, TermMonths: 11, NoticeDays: 30}
	tl := []Pending{pending(t, ct, nil, "terms", StatusScheduled, 1, termsChangeOn("2026-06-01", shorter))}
	_, err = planTerms(ct, tl, seats)
	assert.NoError(t, err, "renewed to 2999-12-01 on the terms it will have")

	ct.Renewal = shorter
	tl = []Pending{pending(t, ct, nil, "seats", StatusScheduled, 1, seats)}
	tl = append(tl, pending(t, ct, tl, "terms", StatusScheduled, 2, termsChangeOn("2026-06-01", termsContract().Renewal)))
	SortTimeline(tl)
	rebased := rebaseTerms(ct, tl)
	require.Len(t, rebased, 2)
	assert.NoError(t, rebased[0].Err)
	assert.Equal(t, KindUnprocessable, KindOf(rebased[1].Err), "a longer term fails the change: %v", rebased[1].Err)
}
