package domain

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A clock's 100 contracts on 1-month terms with 30 days' notice: 200 items
// on 2027-01-11, 100 on each day after. Alone it may go to the end of
// 2027-01-21 (1,200 items); beside other advances of its tenant under way
// that hold 500, to the end of 2027-01-16 (700). Where it would be within
// the bound alone, the others are what stop it: 409, and it may go once
// they end. Over the bound alone it is 422 as before.
func TestATenantsAdvancesUnderWayShareTheBudget(t *testing.T) {
	full := contractsOf(100, onTheClock("2027-02-10", noticeTerms(1, 30)))

	_, err := CheckClockAdvance("c2", full, clockNoon, at("2027-01-18T12:00:00Z"), WorkUnderWay{})
	require.NoError(t, err, "900 items alone")
	w, err := CheckClockAdvance("c2", full, clockNoon, at("2027-01-18T12:00:00Z"), others(500))
	assert.Equal(t, KindConflict, KindOf(err))
	assert.Equal(t, "to 2027-01-18T12:00:00Z: advancing test clock c2 there from 2027-01-10T12:00:00Z would carry out 900 in all: "+
		"0 term ends (a renewal or an expiry each), 800 days of renewal notice (a try to open the renewal each), 100 billing periods and 0 amendments, "+
		"more than the 700 left of the 1200 this tenant's advances may carry out at once (its other advances under way, of test clocks c9, carry 500); "+
		"it may go as far as 2027-01-16T23:59:59.999999Z (the end of 2027-01-16) now, and further once they end", err.Error())
	assert.Equal(t, at("2027-01-16T23:59:59.999999Z"), w.Furthest)
	assert.Equal(t, 500, w.UnderWay)
	var refused *TooMuchWork
	require.ErrorAs(t, err, &refused)
	assert.Equal(t, w, refused.Work)

	w, err = CheckClockAdvance("c2", full, clockNoon, w.Furthest, others(500))
	require.NoError(t, err, "as far as it was told")
	assert.Equal(t, 700, w.Work.Total(), "the work it holds")

	_, err = CheckClockAdvance("c2", full, clockNoon, at("2037-01-10T12:00:00Z"), others(500))
	assert.Equal(t, KindUnprocessable, KindOf(err), "too much alone")
}

// Beside others that leave less than its first day's work, a clock may not
// enter that day: it may go to the end of its own, where nothing falls due.
// Once the others hold the whole budget or more (an advance whose first day
// alone was over it), a clock with nothing due may still move.
func TestAFirstDayIsNotFreeBesideOtherAdvances(t *testing.T) {
	full := contractsOf(100, onTheClock("2027-02-10", noticeTerms(1, 30)))
	w, err := CheckClockAdvance("c2", full, clockNoon, at("2027-01-11T12:00:00Z"), others(1150))
	assert.Equal(t, KindConflict, KindOf(err))
	assert.Equal(t, at("2027-01-10T23:59:59.999999Z"), w.Furthest)
	_, err = CheckClockAdvance("c2", full, clockNoon, at("2027-01-10T20:00:00Z"), others(1150))
	require.NoError(t, err, "within its own day")

	_, err = CheckClockAdvance("c3", nil, clockNoon, at("2037-01-10T12:00:00Z"), others(1300))
	require.NoError(t, err, "no work")
	_, err = CheckClockAdvance("c2", full, clockNoon, at("2027-01-11T12:00:00Z"), others(1300))
	assert.ErrorContains(t, err, "more than the 0 left of the 1200 this tenant's advances may carry out at once (its other advances under way, of test clocks c9, carry 1300)")
}

// What adds to an advance under way is held to what the tenant's other
// advances leave it.
func TestWhatAddsToAnAdvanceIsHeldBesideTheOthers(t *testing.T) {
	full := contractsOf(100, onTheClock("2027-02-10", noticeTerms(1, 30)))
	to := at("2027-01-18T12:00:00Z")
	w, err := CheckAdvanceUnderWay(KindUnprocessable, "testClockId", "these contracts", "c2", full, clockNoon, to, others(300))
	require.NoError(t, err)
	assert.Equal(t, 900, w.Work.Total())
	_, err = CheckAdvanceUnderWay(KindUnprocessable, "testClockId", "these contracts", "c2", full, clockNoon, to, others(301))
	assert.Equal(t, KindUnprocessable, KindOf(err))
	assert.ErrorContains(t, err, "would carry out 900 in all: 0 term ends (a renewal or an expiry each), 800 days of renewal notice (a try to open the renewal each), "+
		"100 billing periods and 0 amendments, more than the 899 left of the 1200 this tenant's advances may carry out at once "+
		"(its other advances under way, of test clocks c9, carry 301); send it again once the clock is ready, or the others have ended")
}

// others is the work n held by one other advance, of clock c9.
func others(n int) WorkUnderWay { return WorkUnderWay{Work: n, Clocks: []string{"c9"}} }

// A refusal names the clocks holding the others' work, the most first, the
// first three of them.
func TestARefusalNamesTheClocksHoldingTheOthersWork(t *testing.T) {
	full := contractsOf(100, onTheClock("2027-02-10", noticeTerms(1, 30)))
	held := WorkUnderWay{Work: 1000, Clocks: []string{"c5", "c6", "c7", "c8", "c9"}}
	_, err := CheckClockAdvance("c2", full, clockNoon, at("2027-01-18T12:00:00Z"), held)
	assert.ErrorContains(t, err, "more than the 200 left of the 1200 this tenant's advances may carry out at once "+
		"(its other advances under way, of test clocks c5, c6, c7 and 2 more, carry 1000)")
}
