package domain

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rateCatalog is periodCatalog with two more rates of biz: a second monthly
// one in USD, dearer, and a monthly one in EUR.
func rateCatalog() *Catalog {
	cat := periodCatalog()
	biz := &cat.Offerings[len(cat.Offerings)-1]
	biz.Rates = append(biz.Rates,
		Rate{ID: "m-plus", Currency: "USD", BillingPeriod: Monthly, UnitPrices: map[string]int64{"seat": 2000, "tb": 3000}},
		Rate{ID: "m-eur", Currency: "EUR", BillingPeriod: Monthly, UnitPrices: map[string]int64{"seat": 900, "tb": 2800}})
	return cat
}

// addBizOn is addBiz on rate rateID ("" for none).
func addBizOn(rateID, on string) Change {
	ch := addBiz(on)
	ch.Payload.Offerings[0].RateID = rateID
	return ch
}

// requireRateRefused checks err is the 422 naming the item's rateId, saying want.
func requireRateRefused(t *testing.T, err error, want string) {
	t.Helper()
	var de *Error
	require.True(t, errors.As(err, &de), "%v", err)
	assert.Equal(t, KindUnprocessable, de.Kind)
	assert.Equal(t, "payload.offerings[0].rateId", de.Field)
	assert.Contains(t, de.Error(), want)
}

// A probe's ADD_OFFERING with an unknown rateId, or with the offering's
// quarterly rate on a monthly contract, was applied on the monthly rate.
// The rate asked for must be one of the offering's, in the contract's
// currency and billing period; anything else is refused, naming the field.
func TestAnAddedOfferingsRateMustBeOneItCanBill(t *testing.T) {
	cat, ct, today := rateCatalog(), periodContract(Monthly), d("2026-12-10")
	for rate, want := range map[string]string{
		"nope":  `payload.offerings[0].rateId "nope" is not a rate of offering "biz"`,
		"seats": `payload.offerings[0].rateId "seats" is not a rate of offering "biz"`,
		"m-eur": `payload.offerings[0].rateId "m-eur" is in EUR but contract CT-1 is in USD`,
		"y":     `payload.offerings[0].rateId "y" bills ANNUAL but contract CT-1 bills MONTHLY, and every offering on a contract bills one period (add it on a rate billed MONTHLY)`,
	} {
		_, err := PlanChange(Preflight{Catalog: cat, Contract: ct, Change: addBizOn(rate, ""), Today: today})
		requireRateRefused(t, err, want)
	}
}

// A rate asked for is the rate the line bills; without one the line takes
// the offering's first rate in the contract's currency and period.
func TestAnAddedOfferingBillsTheRateAskedFor(t *testing.T) {
	cat, ct, today := rateCatalog(), periodContract(Monthly), d("2026-12-10")
	for rate, want := range map[string]struct {
		id     string
		amount int64
	}{"m-plus": {"m-plus", 5*2000 + 3000}, "m": {"m", 5*1000 + 3000}, "": {"m", 5*1000 + 3000}} {
		q, err := PlanChange(Preflight{Catalog: cat, Contract: ct, Change: addBizOn(rate, ""), Today: today})
		require.NoError(t, err, rate)
		require.Len(t, q.LinesAfter, 2)
		assert.Equal(t, want.id, q.LinesAfter[1].RateID, "asked for %q", rate)
		assert.Equal(t, want.amount, q.LinesAfter[1].RecurringAmount, "asked for %q", rate)
	}
}

// An addition scheduled behind a change of the contract's billing period is
// held to the period the contract will bill then: the annual rate is taken
// after the move to annual billing and refused before it, the monthly one
// the other way round; and re-basing refuses the annual one once the move
// is withdrawn, rather than leave an annual line on a monthly contract.
func TestAScheduledAddedOfferingsRateBillsThePeriodTheContractWillBill(t *testing.T) {
	cat, ct, today := rateCatalog(), periodContract(Monthly), "2026-12-10"
	annual := scheduleIn(t, cat, ct, nil, today, "annual", rateOnNextCycle("y"))
	require.Equal(t, d("2027-01-06"), annual.Quote.EffectiveDate)
	tl := []Pending{annual}
	plan := func(ch Change) (Quote, error) {
		return PlanOnTimeline(Preflight{Catalog: cat, Contract: ct, Change: ch, Today: d(today)}, tl)
	}

	q, err := plan(addBizOn("y", "2027-02-01"))
	require.NoError(t, err)
	assert.Equal(t, []string{"y", "y"}, []string{q.LinesAfter[0].RateID, q.LinesAfter[1].RateID})
	_, err = plan(addBizOn("m", "2027-02-01"))
	requireRateRefused(t, err, `"m" bills MONTHLY but contract CT-1 bills ANNUAL`)
	assert.Contains(t, err.Error(), "after the amendments ahead of this change on its timeline: annual")
	_, err = plan(addBizOn("y", "2026-12-20"))
	requireRateRefused(t, err, `"y" bills ANNUAL but contract CT-1 bills MONTHLY`)

	added := scheduleIn(t, cat, ct, tl, today, "add-biz", addBizOn("y", "2027-02-01"))
	got := Rebase(cat, ct, []Pending{added}, d(today), nil, func(Pending) CrossgradeFacts { return CrossgradeFacts{} })
	require.Len(t, got, 1)
	requireRateRefused(t, got[0].Err, `"y" bills ANNUAL but contract CT-1 bills MONTHLY`)
}
