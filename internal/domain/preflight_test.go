package domain

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The pre-flight plans a change against the contract as it will be on the
// change's date (PlanOnTimeline); timeline_test.go builds the timelines.

func TestPlanOnTimelineRefusesAChangeAfterAScheduledCancellation(t *testing.T) {
	ct := timelineContract()
	tl := []Pending{pending(t, ct, nil, "am-cancel", StatusScheduled, 1, cancellationOn("2026-06-01"))}
	plan := func(ch Change, timeline []Pending) (Quote, error) {
		return PlanOnTimeline(Preflight{Catalog: timelineCatalog(), Contract: ct, Change: ch, Today: d(timelineToday)}, timeline)
	}

	for _, on := range []string{"2026-06-01", "2026-07-01"} {
		_, err := plan(seatsOn("10", on), tl)
		var de *Error
		require.ErrorAs(t, err, &de, "a change on %s, on or after the scheduled cancellation", on)
		assert.Equal(t, KindConflict, de.Kind)
		assert.Contains(t, de.Message, "am-cancel", "the conflict names the cancellation")
	}
	_, err := plan(seatsOn("10", "2026-05-31"), tl)
	assert.NoError(t, err, "a change before the cancellation holds")

	held := tl[0]
	held.Status, held.Seq = StatusReview, 0
	_, err = plan(seatsOn("10", "2026-07-01"), []Pending{held})
	assert.NoError(t, err, "a cancellation held in review is not part of the future: it blocks nothing")
}

// TestPlanOnTimelineReportsTheRequestFirst checks the pre-flight's
// precedence: what is wrong with the request's date, or a crossgrade's path,
// is reported before the timeline's conflict.
func TestPlanOnTimelineReportsTheRequestFirst(t *testing.T) {
	ct := timelineContract()
	tl := []Pending{pending(t, ct, nil, "am-cancel", StatusScheduled, 1, cancellationOn("2026-06-01"))}
	plan := func(ch Change) error {
		_, err := PlanOnTimeline(Preflight{Catalog: timelineCatalog(), Contract: ct, Change: ch, Today: d(timelineToday)}, tl)
		return err
	}
	err := plan(seatsOn("10", "2026-03-01"))
	assert.Equal(t, KindUnprocessable, KindOf(err), "a date in the past: %v", err)
	assert.NotContains(t, err.Error(), "am-cancel")

	var de *Error
	err = plan(Change{Action: Crossgrade, ContractID: "c", Crossgrade: &CrossgradeChange{SalesItemCode: "nowhere"}})
	require.ErrorAs(t, err, &de)
	assert.Equal(t, FaultInvalidCrossgradePath, de.Fault, "a crossgrade to nowhere: got %v", err)
}

func TestPlanOnTimelinePricesAgainstTheProjection(t *testing.T) {
	ct := timelineContract()
	tl := []Pending{pending(t, ct, nil, "ramp-1", StatusScheduled, 1, seatsOn("10", "2026-04-01"))}

	later := pending(t, ct, tl, "later", StatusScheduled, 2, seatsOn("20", "2026-05-01"))
	assert.Equal(t, int64(10), seatCount(t, later.Quote.LinesBefore), "priced after the earlier scheduled change")
	assert.Equal(t, int64(20), seatCount(t, later.Quote.LinesAfter))
	assert.Equal(t, int64(10*1500+500+600), later.Quote.RecurringBefore)
	assert.Equal(t, int64(10*1500), later.Quote.RecurringDelta)
	assert.Equal(t, int64(2), later.Quote.BaseVersion, "based on the projected version")

	earlier := pending(t, ct, tl, "earlier", StatusScheduled, 2, seatsOn("20", "2026-03-20"))
	assert.Equal(t, int64(5), seatCount(t, earlier.Quote.LinesBefore), "a change dated before it does not see it")

	_, err := PlanOnTimeline(Preflight{Catalog: timelineCatalog(), Contract: ct, Change: seatsOn("200", "2026-05-01"), Today: d(timelineToday)}, tl)
	assert.Equal(t, KindUnprocessable, KindOf(err), "validated against the projection too: %v", err)
}
