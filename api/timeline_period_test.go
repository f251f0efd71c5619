package api_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rateOnNextCycle is a RATE_CHANGE of the team line to rate on the next
// bill cycle.
func rateOnNextCycle(contractID, rate string) map[string]any {
	return map[string]any{
		"action": "RATE_CHANGE", "contractId": contractID, "relativeEffectiveDate": "NEXT_BILL_CYCLE",
		"payload": map[string]any{"offerings": []any{map[string]any{"offeringId": "off_team", "rateId": rate}}},
	}
}

// A change on the next bill cycle of a contract that a change ahead of it
// moves to annual billing is dated at the end of that year, and quoted
// against the contract as it will be then, after every change accepted
// before it: the preview and the answer give that quote, and it is the one
// stored, not re-priced as soon as it is.
func TestNextBillCycleAfterAPeriodChangeIsQuotedOnItsDate(t *testing.T) {
	env := newAmendmentEnv(t)
	id := fiveSeats(env, nil)["id"].(string)
	submit := func(body map[string]any) map[string]any {
		t.Helper()
		resp := change(env, env.A.SubmitterKey, body)
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		return resp.JSON(t)["quote"].(map[string]any)
	}
	annual := submit(rateOnNextCycle(id, "rate_team_annual_usd"))
	require.Equal(t, "2026-04-01", annual["effectiveDate"])
	eight := submit(seatsOn(id, 8, "2026-07-15"))
	require.Equal(t, "SCHEDULED", eight["status"])

	back := rateOnNextCycle(id, "rate_team_monthly_usd")
	resp := env.Do("POST", "/api/selfService/contract?preview=true", env.A.SubmitterKey, back)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	preview := resp.JSON(t)["quote"].(map[string]any)
	quote := submit(back)
	amendmentID := quote["id"].(string)

	assert.Equal(t, "SCHEDULED", quote["status"])
	assert.Equal(t, "2027-01-01", quote["effectiveDate"], "the next cycle of the contract billing annually from 2026-01-01")
	assert.EqualValues(t, 8, seatCount(t, quote["linesBefore"]), "after the eight seats of July")
	assert.EqualValues(t, 125000, quote["recurringBefore"])
	assert.EqualValues(t, 12500, quote["recurringAfter"])
	assert.Equal(t, "MONTHLY", quote["billingPeriod"])
	assert.Equal(t, "PREVIEW", preview["status"])
	for _, q := range []map[string]any{preview, quote} {
		delete(q, "id")
		delete(q, "status")
	}
	assert.Equal(t, quote, preview, "a preview is exactly the quote the change gets")

	am := amendment(t, env, amendmentID)
	assert.EqualValues(t, 1, am["quoteVersion"], "priced once: %v", am["history"])
	stored := am["quote"].(map[string]any)
	assert.EqualValues(t, 125000, stored["recurringBefore"])
	assert.EqualValues(t, 12500, stored["recurringAfter"])
	statuses, _ := historyOf(am)
	assert.NotContains(t, statuses, "REPRICED")
}
