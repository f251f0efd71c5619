package domain

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// timelineCatalog sells the bench catalog's team offering and an add-on, so
// that one change can remove what a later one changes.
func timelineCatalog() *Catalog {
	cat := benchCatalog()
	cat.Products = append(cat.Products, Product{ID: "backup"})
	cat.Offerings = append(cat.Offerings, Offering{
		ID: "addon", Products: []OfferingProduct{{ProductID: "backup", MinQuantity: 1}},
		Rates: []Rate{{ID: "m", Currency: "USD", BillingPeriod: Monthly, UnitPrices: map[string]int64{"backup": 300}}},
	})
	return cat
}

// timelineContract has five seats on team and two backups on addon.
func timelineContract() Contract {
	return Contract{
		ID: "c", Number: "CT-1", Status: ContractActive, Currency: "USD", BillingPeriod: Monthly, BillingCycleDay: 1,
		EffectiveDate: d("2026-01-01"), ExpirationDate: d("2028-01-01"), Version: 1, RecurringAmount: 8600,
		Lines: []Line{
			{OfferingID: "team", RateID: "m", Products: []ProductQuantity{{ProductID: "seat", Quantity: 5}, {ProductID: "tb", Quantity: 1}}, RecurringAmount: 8000},
			{OfferingID: "addon", RateID: "m", Products: []ProductQuantity{{ProductID: "backup", Quantity: 2}}, RecurringAmount: 600},
		},
	}
}

const timelineToday = "2026-03-15"

func quantity(offering, product string, n string, on string) Change {
	q := Number(n)
	return Change{Action: QuantityChange, ContractID: "c", EffectiveDate: d(on), Payload: &ChangePayload{Offerings: []OfferingChangeItem{
		{OfferingID: offering, Products: []RequestedProduct{{product, &q}}},
	}}}
}

func seatsOn(n string, on string) Change { return quantity("team", "seat", n, on) }

func cancellationOn(on string) Change {
	return Change{Action: Cancellation, ContractID: "c", EffectiveDate: d(on)}
}

func removeAddonOn(on string) Change {
	return Change{Action: RemoveOffering, ContractID: "c", EffectiveDate: d(on), Payload: &ChangePayload{Offerings: []OfferingChangeItem{{OfferingID: "addon"}}}}
}

// pending plans ch against ct as it will be after timeline, the way opening
// it does, and returns it as a pending amendment with the given status and seq.
func pending(t *testing.T, ct Contract, timeline []Pending, id, status string, seq int64, ch Change) Pending {
	t.Helper()
	q, err := PlanOnTimeline(Preflight{Catalog: timelineCatalog(), Contract: ct, Change: ch, Today: d(timelineToday)}, timeline)
	require.NoError(t, err, id)
	q.ID, q.Status = id, status
	return Pending{ID: id, Status: status, Seq: seq, Quote: q, QuoteVersion: 1, Change: &ch}
}

func seatCount(t *testing.T, lines []Line) int64 {
	t.Helper()
	i := indexOfOffering(lines, "team")
	require.GreaterOrEqual(t, i, 0, "no team line in %v", lines)
	return lines[i].Quantity("seat")
}

func indexOfOffering(lines []Line, offering string) int {
	for i, l := range lines {
		if l.OfferingID == offering {
			return i
		}
	}
	return -1
}

func ids(list []Pending) []string {
	out := make([]string, len(list))
	for i, p := range list {
		out[i] = p.ID
	}
	return out
}

func TestSortTimelineOrdersByDateThenAcceptance(t *testing.T) {
	at := func(id, status string, seq int64, on string) Pending {
		return Pending{ID: id, Status: status, Seq: seq, Quote: Quote{EffectiveDate: d(on)}}
	}
	list := []Pending{
		at("review-april", StatusReview, 0, "2026-04-01"),
		at("may", StatusScheduled, 1, "2026-05-01"),
		at("april-second", StatusScheduled, 7, "2026-04-01"),
		at("april-first", StatusScheduled, 3, "2026-04-01"),
		at("march", StatusScheduled, 9, "2026-03-20"),
	}
	SortTimeline(list)
	assert.Equal(t, []string{"march", "april-first", "april-second", "review-april", "may"}, ids(list),
		"same date in the order accepted (seq), a held one after the scheduled ones of its date")
}

func TestProjectAppliesScheduledChangesUpToTheDate(t *testing.T) {
	ct := timelineContract()
	var tl []Pending
	tl = append(tl, pending(t, ct, tl, "ramp-1", StatusScheduled, 1, seatsOn("20", "2026-04-01")))
	tl = append(tl, pending(t, ct, tl, "ramp-2", StatusScheduled, 2, seatsOn("50", "2026-06-01")))
	held := pending(t, ct, tl, "held", StatusReview, 0, seatsOn("90", "2026-05-01"))
	tl = append(tl, held)
	SortTimeline(tl)

	cases := []struct {
		on    string
		seats int64
		ver   int64
	}{{"2026-03-31", 5, 1}, {"2026-04-01", 20, 2}, {"2026-05-15", 20, 2}, {"2026-06-01", 50, 3}, {"2027-01-01", 50, 3}}
	for _, c := range cases {
		pr := Project(ct, tl, d(c.on))
		assert.Equal(t, c.seats, seatCount(t, pr.Contract.Lines), "seats on %s (the held change is not part of the future)", c.on)
		assert.Equal(t, c.ver, pr.Contract.Version, "version on %s", c.on)
		assert.Empty(t, pr.CancelledBy)
	}
	assert.Equal(t, int64(20*1500+500+600), Project(ct, tl, d("2026-04-01")).Contract.RecurringAmount)
	assert.Equal(t, int64(5), seatCount(t, ct.Lines), "projecting leaves the contract as it is")

	cancel := pending(t, ct, tl, "cancel", StatusScheduled, 3, cancellationOn("2026-09-01"))
	tl = append(tl, cancel)
	SortTimeline(tl)
	pr := Project(ct, tl, d("2026-09-01"))
	assert.Equal(t, "cancel", pr.CancelledBy)
	assert.Equal(t, ContractCancelled, pr.Contract.Status)
	assert.Empty(t, Project(ct, tl, d("2026-08-31")).CancelledBy)
}

func TestRebaseRepricesLaterChanges(t *testing.T) {
	ct := timelineContract()
	var tl []Pending
	tl = append(tl, pending(t, ct, tl, "ramp-1", StatusScheduled, 1, seatsOn("20", "2026-04-01")))
	tl = append(tl, pending(t, ct, tl, "backups", StatusScheduled, 2, quantity("addon", "backup", "4", "2026-05-01")))
	tl = append(tl, pending(t, ct, tl, "ramp-2", StatusScheduled, 3, seatsOn("50", "2026-06-01")))
	noFacts := func(Pending) CrossgradeFacts { return CrossgradeFacts{} }
	today := d(timelineToday)

	unchanged := Rebase(timelineCatalog(), ct, tl, today, nil, noFacts)
	require.Len(t, unchanged, 3)
	for _, r := range unchanged {
		assert.NoError(t, r.Err, r.ID)
		assert.False(t, r.Changed, "%s: nothing before it changed", r.ID)
	}

	// The first step is withdrawn: the rest are priced without it.
	rest := Rebase(timelineCatalog(), ct, tl[1:], today, nil, noFacts)
	require.Len(t, rest, 2)
	assert.Equal(t, "backups", rest[0].ID)
	assert.True(t, rest[0].Changed, "its lines before now hold five seats")
	assert.Equal(t, int64(5), seatCount(t, rest[0].Quote.LinesBefore))
	assert.Equal(t, "ramp-2", rest[1].ID)
	require.NoError(t, rest[1].Err)
	assert.True(t, rest[1].Changed)
	assert.Equal(t, int64(5), seatCount(t, rest[1].Quote.LinesBefore))
	assert.Equal(t, int64(45*1500), rest[1].Quote.RecurringDelta, "re-priced from five seats, not twenty")
	assert.Equal(t, tl[2].Quote.EffectiveDate, rest[1].Quote.EffectiveDate, "it keeps its date")
	assert.Equal(t, "ramp-2", rest[1].Quote.ID, "and its id")
	assert.Equal(t, StatusScheduled, rest[1].Quote.Status)
}

func TestRebaseFailsAChangeThatNoLongerHolds(t *testing.T) {
	ct := timelineContract()
	var tl []Pending
	tl = append(tl, pending(t, ct, tl, "backups", StatusScheduled, 1, quantity("addon", "backup", "4", "2026-05-01")))
	tl = append(tl, pending(t, ct, tl, "seats", StatusScheduled, 2, seatsOn("8", "2026-06-01")))
	// Accepted later but dated earlier: the add-on goes before its quantity change.
	removal := pending(t, ct, nil, "remove-addon", StatusScheduled, 3, removeAddonOn("2026-04-01"))
	tl = append(tl, removal)
	SortTimeline(tl)
	require.Equal(t, []string{"remove-addon", "backups", "seats"}, ids(tl))

	got := Rebase(timelineCatalog(), ct, tl, d(timelineToday), nil, func(Pending) CrossgradeFacts { return CrossgradeFacts{} })
	require.Len(t, got, 3)
	assert.NoError(t, got[0].Err)
	assert.False(t, got[0].Changed)
	assert.Equal(t, "backups", got[1].ID)
	assert.Equal(t, KindUnprocessable, KindOf(got[1].Err), "its offering is removed before its date: %v", got[1].Err)
	assert.False(t, got[1].Changed, "a failed one reports no new quote")
	require.NoError(t, got[2].Err, "the one after a failed change is priced without it")
	assert.True(t, got[2].Changed)
	assert.Equal(t, -1, indexOfOffering(got[2].Quote.LinesAfter, "addon"), "priced after the removal")
	assert.Equal(t, int64(8*1500+500), got[2].Quote.RecurringAfter)
}

func TestRebaseFailsEverythingAfterAScheduledCancellation(t *testing.T) {
	ct := timelineContract()
	tl := []Pending{pending(t, ct, nil, "seats", StatusScheduled, 1, seatsOn("8", "2026-06-01"))}
	tl = append(tl, pending(t, ct, nil, "cancel", StatusScheduled, 2, cancellationOn("2026-05-01")))
	SortTimeline(tl)
	got := Rebase(timelineCatalog(), ct, tl, d(timelineToday), nil, func(Pending) CrossgradeFacts { return CrossgradeFacts{} })
	require.Len(t, got, 2)
	assert.NoError(t, got[0].Err)
	assert.Equal(t, KindConflict, KindOf(got[1].Err))
	assert.Contains(t, got[1].Err.Error(), "cancel")
}

func TestRebaseKeepsAChangeToTheNextBillCycleAsPriced(t *testing.T) {
	ct := timelineContract()
	next := seatsOn("8", "2026-01-01")
	next.EffectiveDate, next.RelativeEffectiveDate = Date{}, NextBillCycle
	var tl []Pending
	tl = append(tl, pending(t, ct, tl, "next-cycle", StatusScheduled, 1, next))
	require.Equal(t, d("2026-04-01"), tl[0].Quote.EffectiveDate)
	require.Empty(t, tl[0].Quote.Proration, "a change on the next bill cycle prorates nothing")
	tl = append(tl, pending(t, ct, tl, "later", StatusScheduled, 2, seatsOn("9", "2026-05-01")))
	noFacts := func(Pending) CrossgradeFacts { return CrossgradeFacts{} }

	for _, today := range []string{timelineToday, "2026-03-31"} {
		got := Rebase(timelineCatalog(), ct, tl, d(today), nil, noFacts)
		require.NoError(t, got[0].Err)
		assert.False(t, got[0].Changed, "on %s nothing before it changed: its quote stands, got proration %v", today, got[0].Quote.Proration)
	}

	// Re-priced after an earlier change, it is still a change on the next
	// bill cycle: on its date, with nothing to prorate.
	earlier := pending(t, ct, nil, "earlier", StatusScheduled, 3, removeAddonOn("2026-03-20"))
	withEarlier := append([]Pending{earlier}, tl...)
	got := Rebase(timelineCatalog(), ct, withEarlier, d(timelineToday), nil, noFacts)
	require.NoError(t, got[1].Err)
	assert.True(t, got[1].Changed)
	assert.Equal(t, d("2026-04-01"), got[1].Quote.EffectiveDate)
	assert.Empty(t, got[1].Quote.Proration)
	assert.Equal(t, int64(8*1500+500), got[1].Quote.RecurringAfter)
}

func TestARefusalOnTheProjectionNamesTheChangesAheadOfIt(t *testing.T) {
	ct := timelineContract()
	tl := []Pending{pending(t, ct, nil, "remove-addon", StatusScheduled, 1, removeAddonOn("2026-04-01"))}
	plan := func(ch Change, timeline []Pending) error {
		_, err := PlanOnTimeline(Preflight{Catalog: timelineCatalog(), Contract: ct, Change: ch, Today: d(timelineToday)}, timeline)
		return err
	}

	err := plan(quantity("addon", "backup", "4", "2026-05-01"), tl)
	require.Error(t, err, "the add-on is gone by May")
	assert.Equal(t, KindUnprocessable, KindOf(err))
	assert.Contains(t, err.Error(), "as the contract will be on 2026-05-01, after the amendments ahead of this change on its timeline: remove-addon")

	err = plan(quantity("addon", "backup", "4", "2026-03-20"), tl)
	assert.NoError(t, err, "before the removal the add-on is there")
	err = plan(quantity("addon", "nosuch", "4", "2026-03-20"), tl)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "ahead of this change", "a refusal on the contract as it is names no other change")
	err = plan(quantity("team", "nosuch", "4", "2026-05-01"), tl)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "ahead of this change", "nor one the change gets whatever is ahead of it")

	// Re-priced behind a removal accepted later but dated earlier, the
	// quantity change fails saying why.
	backups := pending(t, ct, nil, "backups", StatusScheduled, 2, quantity("addon", "backup", "4", "2026-05-01"))
	got := Rebase(timelineCatalog(), ct, append(tl, backups), d(timelineToday), nil, func(Pending) CrossgradeFacts { return CrossgradeFacts{} })
	require.Len(t, got, 2)
	require.Error(t, got[1].Err)
	assert.Contains(t, got[1].Err.Error(), "timeline: remove-addon")
}

func TestARefusalNamesAtMostThreeChangesAheadOfIt(t *testing.T) {
	ct := timelineContract()
	var tl []Pending
	for i, on := range []string{"2026-04-01", "2026-05-01", "2026-06-01", "2026-07-01"} {
		tl = append(tl, pending(t, ct, tl, "ramp-"+on, StatusScheduled, int64(i+1), seatsOn("2"+on[6:7], on)))
	}
	tl = append(tl, pending(t, ct, tl, "remove-addon", StatusScheduled, 5, removeAddonOn("2026-08-01")))
	_, err := PlanOnTimeline(Preflight{Catalog: timelineCatalog(), Contract: ct, Change: quantity("addon", "backup", "4", "2026-09-01"), Today: d(timelineToday)}, tl)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "timeline: 2 earlier and ramp-2026-06-01, ramp-2026-07-01, remove-addon)")
}
