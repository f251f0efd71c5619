package domain

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// annualTeamCatalog is periodCatalog with a path from monthly Team to
// annual Team, which changes the billing period of the Team line alone.
func annualTeamCatalog() *Catalog {
	cat := periodCatalog()
	cat.CrossgradePaths = append(cat.CrossgradePaths, CrossgradePath{From: "TEAM-M", To: "TEAM-A"})
	return cat
}

// withBiz is the monthly Team contract with the biz offering added, on its
// monthly rate.
func withBiz(t *testing.T, cat *Catalog, today Date) Contract {
	t.Helper()
	ct := periodContract(Monthly)
	q, err := PlanChange(Preflight{Catalog: cat, Contract: ct, Change: addBiz(""), Today: today})
	require.NoError(t, err)
	ct.Lines, ct.RecurringAmount = q.LinesAfter, q.RecurringAfter
	return ct
}

// requirePeriodsRefused checks err is the crossgrade surface's 90063 for a
// crossgrade that would leave biz's monthly line on a contract gone annual.
func requirePeriodsRefused(t *testing.T, err error) {
	t.Helper()
	var de *Error
	require.True(t, errors.As(err, &de), "%v", err)
	assert.Equal(t, FaultUnableToCrossgrade, de.Fault)
	assert.Equal(t, KindUnprocessable, de.Kind)
	assert.Equal(t, "salesItemCode", de.Field)
	assert.Contains(t, de.Error(), `offering "biz" on contract CT-1 bills MONTHLY, and every offering on a contract bills one period: the crossgrade from TEAM-M to TEAM-A would bill ANNUAL`)
	assert.Contains(t, de.Error(), "remove the offerings billed MONTHLY first, or crossgrade to an item billed MONTHLY")
}

// A crossgrade replaces one line: one that changes the billing period of a
// contract with other lines would leave them billed on the old period (a
// probe's monthly Team contract with Sports, crossgraded to annual Team,
// was left annual with a monthly Sports line, which billing would charge
// its monthly price once a year). It is refused as an
// UnableToCrossgradeFault, before the card's and the discount's faults, as
// the seed's table orders them.
func TestACrossgradeChangingTheBillingPeriodOfOneOfSeveralLinesIsRefused(t *testing.T) {
	cat, today := annualTeamCatalog(), d("2026-12-10")
	ct := withBiz(t, cat, today)

	_, err := PlanChange(Preflight{Catalog: cat, Contract: ct, Change: crossgradeTo("TEAM-A"), Today: today})
	requirePeriodsRefused(t, err)
	withCode := crossgradeTo("TEAM-A")
	withCode.Crossgrade.DiscountCode = "NONE"
	_, err = PlanChange(Preflight{Catalog: cat, Contract: ct, Change: withCode, Today: today})
	requirePeriodsRefused(t, err)
	carded := annualTeamCatalog()
	carded.SalesItems[1].RequiresViewingCard = true
	_, err = PlanChange(Preflight{Catalog: carded, Contract: ct, Change: crossgradeTo("TEAM-A"), Today: today})
	requirePeriodsRefused(t, err)
}

// The rule is that every line bills one period, not that the period stays:
// a contract left with lines on two periods (by a crossgrade before this
// check) may be crossgraded to the period of its other lines.
func TestACrossgradeMayBringALineToThePeriodOfTheOthers(t *testing.T) {
	cat, today := periodCatalog(), d("2026-12-10")
	cat.CrossgradePaths = append(cat.CrossgradePaths, CrossgradePath{From: "TEAM-A", To: "TEAM-M"})
	ct := withBiz(t, annualTeamCatalog(), today)
	ct.BillingPeriod, ct.Lines[0].RateID = Annual, "y"

	q, err := PlanChange(Preflight{Catalog: cat, Contract: ct, Change: crossgradeTo("TEAM-M"), Today: today})
	require.NoError(t, err)
	assert.Equal(t, Monthly, q.BillingPeriod)
	require.Len(t, q.LinesAfter, 2)
	assert.Equal(t, []string{"m", "m"}, []string{q.LinesAfter[0].RateID, q.LinesAfter[1].RateID})
}

// A crossgrade changing the period waits for the period's end and is
// priced against the contract as it will be then: with an offering added
// before that, it is refused, naming the addition.
func TestACrossgradeChangingThePeriodBehindAnAddedOfferingIsRefused(t *testing.T) {
	cat, ct, today := annualTeamCatalog(), periodContract(Monthly), "2026-12-10"
	tl := []Pending{scheduleIn(t, cat, ct, nil, today, "add-biz", addBiz("2026-12-20"))}

	_, err := PlanOnTimeline(Preflight{Catalog: cat, Contract: ct, Change: crossgradeTo("TEAM-A"), Today: d(today)}, tl)
	requirePeriodsRefused(t, err)
	assert.Contains(t, err.Error(), "after the amendments ahead of this change on its timeline: add-biz")
}

// A crossgrade changing the period, scheduled for the period's end, then
// an offering added at once on the contract's current period: re-basing
// fails the crossgrade rather than let it leave that line on the old
// period when its date comes.
func TestAScheduledCrossgradeChangingThePeriodFailsWhenAnOfferingIsAddedFirst(t *testing.T) {
	cat, ct, today := annualTeamCatalog(), periodContract(Monthly), "2026-12-10"
	cg := scheduleIn(t, cat, ct, nil, today, "team-annual", crossgradeTo("TEAM-A"))
	require.Equal(t, d("2027-01-06"), cg.Quote.EffectiveDate, "a change of billing period waits for the period's end")
	add := scheduleIn(t, cat, ct, []Pending{cg}, today, "add-biz", addBiz(""))
	require.Equal(t, d(today), add.Quote.EffectiveDate)
	applied := Project(ct, []Pending{add}, d(today)).Contract

	got := Rebase(cat, applied, []Pending{cg}, d(today), nil, func(Pending) CrossgradeFacts { return CrossgradeFacts{} })
	require.Len(t, got, 1)
	requirePeriodsRefused(t, got[0].Err)
}
