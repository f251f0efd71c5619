package domain

import (
	"errors"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// addBiz adds the biz offering (monthly, five seats), on a date or today.
func addBiz(on string) Change {
	five := Number("5")
	ch := Change{Action: AddOffering, ContractID: "c", Payload: &ChangePayload{Offerings: []OfferingChangeItem{
		{OfferingID: "biz", Products: []RequestedProduct{{"seat", &five}}},
	}}}
	if on != "" {
		ch.EffectiveDate = d(on)
	}
	return ch
}

func crossgradeTo(item string) Change {
	return Change{Action: Crossgrade, ContractID: "c", Crossgrade: &CrossgradeChange{SalesItemCode: item}}
}

// requireTwiceRefused checks err is the crossgrade surface's 90063 for an
// offering the crossgrade would put on the contract a second time.
func requireTwiceRefused(t *testing.T, err error, offering string) {
	t.Helper()
	var de *Error
	require.True(t, errors.As(err, &de), "%v", err)
	assert.Equal(t, FaultUnableToCrossgrade, de.Fault)
	assert.Equal(t, KindUnprocessable, de.Kind)
	assert.Contains(t, de.Error(), `offering "`+offering+`" is on contract CT-1 already`)
}

// A crossgrade replaces the line of the contract's sales item: to an item
// whose offering is on another line it would hold that offering twice (a
// probe's contract was billed for both lines, and a quantity change or a
// removal reached only the first). It is refused as an
// UnableToCrossgradeFault, before the discount's fault, as the seed's table
// orders them. An item of the offering of the line it replaces (another
// rate) puts it on no second line.
func TestACrossgradeToAnOfferingOnAnotherLineIsRefused(t *testing.T) {
	cat, today := periodCatalog(), d("2026-12-10")
	ct := periodContract(Monthly)
	q, err := PlanChange(Preflight{Catalog: cat, Contract: ct, Change: addBiz(""), Today: today})
	require.NoError(t, err)
	ct.Lines, ct.RecurringAmount = q.LinesAfter, q.RecurringAfter

	_, err = PlanChange(Preflight{Catalog: cat, Contract: ct, Change: crossgradeTo("BIZ-M"), Today: today})
	requireTwiceRefused(t, err, "biz")
	withCode := crossgradeTo("BIZ-M")
	withCode.Crossgrade.DiscountCode = "NONE"
	_, err = PlanChange(Preflight{Catalog: cat, Contract: ct, Change: withCode, Today: today})
	requireTwiceRefused(t, err, "biz")

	cat.CrossgradePaths = append(cat.CrossgradePaths, CrossgradePath{From: "TEAM-M", To: "TEAM-A"})
	q, err = PlanChange(Preflight{Catalog: cat, Contract: periodContract(Monthly), Change: crossgradeTo("TEAM-A"), Today: today})
	require.NoError(t, err, "the line replaced is the one of its offering")
	require.Len(t, q.LinesAfter, 1)
	assert.Equal(t, "y", q.LinesAfter[0].RateID)
}

// A crossgrade waiting for the end of the period is priced against the
// contract as it will be then: with its offering added before that, it is
// refused, naming the addition.
func TestACrossgradeBehindAnAddedOfferingOfItsTargetIsRefused(t *testing.T) {
	ct, today := periodContract(Monthly), "2026-12-10"
	tl := []Pending{scheduleOn(t, ct, nil, today, "add-biz", addBiz("2026-12-20"))}

	_, err := PlanOnTimeline(Preflight{Catalog: periodCatalog(), Contract: ct, Change: crossgradeTo("BIZ-A"), Today: d(today)}, tl)
	requireTwiceRefused(t, err, "biz")
	assert.Contains(t, err.Error(), "after the amendments ahead of this change on its timeline: add-biz")
}

// A crossgrade scheduled for the end of the period, then its offering
// added at once: re-basing fails the crossgrade, as it fails any change
// that no longer holds, rather than let it put the offering on a second
// line when its date comes.
func TestAScheduledCrossgradeFailsWhenItsTargetOfferingIsAddedFirst(t *testing.T) {
	cat, ct, today := periodCatalog(), periodContract(Monthly), "2026-12-10"
	cg := scheduleOn(t, ct, nil, today, "biz-annual", crossgradeTo("BIZ-A"))
	require.Equal(t, d("2027-01-06"), cg.Quote.EffectiveDate, "a change of billing period waits for the period's end")
	add := scheduleOn(t, ct, []Pending{cg}, today, "add-biz", addBiz(""))
	applied := Project(ct, []Pending{add}, d(today)).Contract

	got := Rebase(cat, applied, []Pending{cg}, d(today), nil, func(Pending) CrossgradeFacts { return CrossgradeFacts{} })
	require.Len(t, got, 1)
	requireTwiceRefused(t, got[0].Err, "biz")
}

// Whatever path built a change's lines, pricing refuses one that puts an
// offering on a second line. A contract holding one twice already (stored
// before the check) may still change it, or remove a line of it.
func TestAChangeNeverPutsAnOfferingOnASecondLine(t *testing.T) {
	ct := periodContract(Monthly)
	period := PeriodContaining(ct.EffectiveDate, ct.BillingCycleDay, ct.BillingPeriod, d("2026-12-10"))
	pc := pricing{ct: ct, action: AddOffering, after: append(slices.Clone(ct.Lines), ct.Lines[0]), newPeriod: Monthly,
		effective: d("2026-12-10"), period: period, field: "payload"}
	_, err := pc.quote(periodCatalog().MoneyLimits())
	require.Error(t, err)
	assert.Equal(t, KindUnprocessable, KindOf(err))
	assert.Contains(t, err.Error(), `offering "team" is on contract CT-1 already`)

	ct.Lines = append(ct.Lines, ct.Lines[0])
	ct.RecurringAmount *= 2
	for _, ch := range []Change{seatsOn("7", "2026-12-10"), {Action: RemoveOffering, ContractID: "c", Payload: &ChangePayload{Offerings: []OfferingChangeItem{{OfferingID: "team"}}}}} {
		_, err := PlanAmendment(periodCatalog(), ct, ch, d("2026-12-10"), nil)
		assert.NoError(t, err, "%s on a contract holding the offering twice", ch.Action)
	}
}
