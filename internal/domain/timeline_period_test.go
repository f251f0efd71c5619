package domain

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// periodCatalog sells the team offering monthly ("m") and annually ("y", at
// ten months' price), and a biz offering: annually, cheaper; monthly, with
// cheaper seats and dearer storage. Either team item may be crossgraded to
// annual biz, the monthly one to monthly biz.
func periodCatalog() *Catalog {
	cat := benchCatalog()
	cat.Offerings[0].Rates = append(cat.Offerings[0].Rates,
		Rate{ID: "y", Currency: "USD", BillingPeriod: Annual, UnitPrices: map[string]int64{"seat": 15000, "tb": 5000}})
	cat.Offerings = append(cat.Offerings, Offering{
		ID: "biz", Products: []OfferingProduct{{ProductID: "seat", MinQuantity: 1}, {ProductID: "tb"}},
		Rates: []Rate{
			{ID: "y", Currency: "USD", BillingPeriod: Annual, UnitPrices: map[string]int64{"seat": 10000, "tb": 5000}},
			{ID: "m", Currency: "USD", BillingPeriod: Monthly, UnitPrices: map[string]int64{"seat": 1000, "tb": 3000}},
		},
	})
	cat.SalesItems = []SalesItem{
		{Code: "TEAM-M", OfferingID: "team", RateID: "m"}, {Code: "TEAM-A", OfferingID: "team", RateID: "y"},
		{Code: "BIZ-A", OfferingID: "biz", RateID: "y"}, {Code: "BIZ-M", OfferingID: "biz", RateID: "m"},
	}
	cat.CrossgradePaths = []CrossgradePath{{From: "TEAM-M", To: "BIZ-A"}, {From: "TEAM-A", To: "BIZ-A"}, {From: "TEAM-M", To: "BIZ-M"}}
	return cat
}

// periodContract bills five seats monthly from 2026-12-06.
func periodContract(period BillingPeriod) Contract {
	rate, amount := "m", int64(8000)
	if period == Annual {
		rate, amount = "y", 80000
	}
	return Contract{
		ID: "c", Number: "CT-1", Status: ContractActive, Currency: "USD", BillingPeriod: period, BillingCycleDay: 6,
		EffectiveDate: d("2026-12-06"), ExpirationDate: d("2028-01-01"), Version: 1, RecurringAmount: amount,
		Lines: []Line{{OfferingID: "team", RateID: rate, Products: []ProductQuantity{{ProductID: "seat", Quantity: 5}, {ProductID: "tb", Quantity: 1}}, RecurringAmount: amount}},
	}
}

func rateOnNextCycle(rate string) Change {
	return Change{Action: RateChange, ContractID: "c", RelativeEffectiveDate: NextBillCycle, Payload: &ChangePayload{Offerings: []OfferingChangeItem{
		{OfferingID: "team", RateID: rate},
	}}}
}

// scheduleOn plans ch on the timeline as opening it does, on today, and returns
// it as the next scheduled amendment.
func scheduleOn(t *testing.T, ct Contract, tl []Pending, today, id string, ch Change) Pending {
	t.Helper()
	return scheduleIn(t, periodCatalog(), ct, tl, today, id, ch)
}

// scheduleIn is scheduleOn with another catalog than periodCatalog.
func scheduleIn(t *testing.T, cat *Catalog, ct Contract, tl []Pending, today, id string, ch Change) Pending {
	t.Helper()
	q, err := PlanOnTimeline(Preflight{Catalog: cat, Contract: ct, Change: ch, Today: d(today)}, tl)
	require.NoError(t, err, id)
	q.ID, q.Status = id, StatusScheduled
	return Pending{ID: id, Status: StatusScheduled, Seq: int64(len(tl) + 1), Quote: q, QuoteVersion: 1, Change: &ch}
}

// A change on the next bill cycle of a contract that a change ahead of it
// moves to another billing period is dated by the periods the contract will
// then bill, and priced against the contract as it will be on that date,
// after the changes scheduled before it: the quote re-basing gives it at
// once, so it is not re-priced as soon as it is stored.
func TestANextBillCycleChangeIsPricedOnTheDateTheProjectionGivesIt(t *testing.T) {
	ct, today := periodContract(Monthly), "2026-12-06"
	var tl []Pending
	tl = append(tl, scheduleOn(t, ct, tl, today, "annual", rateOnNextCycle("y")))
	require.Equal(t, d("2027-01-06"), tl[0].Quote.EffectiveDate)
	seats := seatsOn("8", "2027-07-15")
	tl = append(tl, scheduleOn(t, ct, tl, today, "eight-seats", seats))
	back := scheduleOn(t, ct, tl, today, "monthly", rateOnNextCycle("m"))

	q := back.Quote
	assert.Equal(t, d("2027-12-06"), q.EffectiveDate, "the next cycle of the contract billing annually")
	assert.Equal(t, int64(8), seatCount(t, q.LinesBefore), "priced after the eight seats of July")
	assert.Equal(t, int64(125000), q.RecurringBefore)
	assert.Equal(t, int64(12500), q.RecurringAfter)
	assert.Equal(t, Monthly, q.BillingPeriod)
	assert.Empty(t, q.Proration, "a change on the next bill cycle prorates nothing")

	requireRebasedAsPriced(t, periodCatalog(), ct, append(tl, back), today)
}

// requireRebasedAsPriced re-bases a timeline as its contract's workflow
// would today and requires every change on it priced again as it was
// first priced.
func requireRebasedAsPriced(t *testing.T, cat *Catalog, ct Contract, tl []Pending, today string) {
	t.Helper()
	got := Rebase(cat, ct, tl, d(today), nil, func(Pending) CrossgradeFacts { return CrossgradeFacts{} })
	require.Len(t, got, len(tl))
	for _, r := range got {
		require.NoError(t, r.Err, r.ID)
		assert.False(t, r.Changed, "%s is re-priced as it was first priced: %+v", r.ID, r.Quote)
	}
}

// The next bill cycle of an annual contract that a scheduled change moves to
// monthly billing at the end of its year is that end, not the end of the
// month today would be in if it billed monthly already.
func TestANextBillCycleChangeIsNeverDatedBeforeTheCurrentPeriodEnds(t *testing.T) {
	ct, today := periodContract(Annual), "2027-03-01"
	var tl []Pending
	tl = append(tl, scheduleOn(t, ct, tl, today, "monthly", rateOnNextCycle("m")))
	require.Equal(t, d("2027-12-06"), tl[0].Quote.EffectiveDate)
	more := seatsOn("8", "2026-01-01")
	more.EffectiveDate, more.RelativeEffectiveDate = Date{}, NextBillCycle
	seats := scheduleOn(t, ct, tl, today, "eight-seats", more)

	q := seats.Quote
	assert.Equal(t, d("2027-12-06"), q.EffectiveDate)
	assert.Equal(t, int64(8000), q.RecurringBefore, "after the change to monthly billing of its date")
	assert.Equal(t, int64(12500), q.RecurringAfter)
	assert.Empty(t, q.Proration)
	requireRebasedAsPriced(t, periodCatalog(), ct, append(tl, seats), today)
}

// A crossgrade that changes the billing period waits for the end of the
// period; when a change ahead of it moves the contract to that period
// first, the end of the period is the one the contract will then bill, and
// the crossgrade is priced against the contract as it will be on that date.
func TestACrossgradeAtThePeriodEndIsPricedOnTheDateTheProjectionGivesIt(t *testing.T) {
	cat := periodCatalog()
	ct, today := periodContract(Monthly), "2026-12-06"
	var tl []Pending
	tl = append(tl, scheduleOn(t, ct, tl, today, "annual", rateOnNextCycle("y")))
	tl = append(tl, scheduleOn(t, ct, tl, today, "eight-seats", seatsOn("8", "2027-07-15")))

	ch := Change{Action: Crossgrade, ContractID: "c", Crossgrade: &CrossgradeChange{SalesItemCode: "BIZ-A"}}
	q, err := PlanOnTimeline(Preflight{Catalog: cat, Contract: ct, Change: ch, Today: d(today)}, tl)
	require.NoError(t, err)
	assert.Equal(t, d("2027-12-06"), q.EffectiveDate, "a downgrade of the annual contract waits for the end of its year")
	assert.Equal(t, int64(8), seatCount(t, q.LinesBefore))
	assert.Equal(t, int64(125000), q.RecurringBefore)
	assert.Equal(t, int64(85000), q.RecurringAfter)

	q.ID, q.Status = "crossgrade", StatusScheduled
	cg := Pending{ID: "crossgrade", Status: StatusScheduled, Seq: 3, Quote: q, QuoteVersion: 1, Change: &ch}
	requireRebasedAsPriced(t, cat, ct, append(tl, cg), today)
}

// A crossgrade that is a downgrade as the contract is now, waiting for the
// end of the period, but an upgrade, to apply at once, as the changes ahead
// of it leave the contract by then has no date that agrees with the
// contract as it will be on it: it is refused, naming those changes.
func TestACrossgradeWithNoDateOfItsOwnIsRefused(t *testing.T) {
	cat := periodCatalog()
	ct, today := periodContract(Monthly), "2026-12-06"
	tl := []Pending{scheduleOn(t, ct, nil, today, "one-seat", seatsOn("1", "2027-01-06"))}
	ch := Change{Action: Crossgrade, ContractID: "c", Crossgrade: &CrossgradeChange{SalesItemCode: "BIZ-M"}}

	q, err := PlanOnTimeline(Preflight{Catalog: cat, Contract: ct, Change: ch, Today: d(today)}, nil)
	require.NoError(t, err)
	require.Equal(t, d("2027-01-06"), q.EffectiveDate, "5 seats and 1 TB cost 8000 a month on either: a downgrade")
	_, err = PlanOnTimeline(Preflight{Catalog: cat, Contract: ct, Change: ch, Today: d(today)}, tl)
	require.Error(t, err)
	assert.Equal(t, KindConflict, KindOf(err))
	assert.Contains(t, err.Error(), "after the amendments ahead of this change on its timeline: one-seat")
}

// An evergreen contract runs on past its expiration date, the end of its
// minimum term, so a crossgrade past that date takes effect as on any
// other contract: a probe's were all refused as "expires before the
// crossgrade could take effect".
func TestACrossgradeOfAnEvergreenContractPastItsMinimumTerm(t *testing.T) {
	ct := periodContract(Monthly)
	ct.ExpirationDate, ct.Renewal = d("2027-03-06"), RenewalTerms{Mode: Evergreen}
	ch := Change{Action: Crossgrade, ContractID: "c", Crossgrade: &CrossgradeChange{SalesItemCode: "BIZ-M"}}
	q, err := PlanOnTimeline(Preflight{Catalog: periodCatalog(), Contract: ct, Change: ch, Today: d("2027-04-10")}, nil)
	require.NoError(t, err)
	assert.Equal(t, d("2027-05-06"), q.EffectiveDate, "not an upgrade: at the end of the period")
}
