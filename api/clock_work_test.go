package api_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/testkit"
)

// One advance of a test clock carries out at most 1,200 items of work for
// the clock's contracts (domain.MaxClockAdvanceWork). Bounded by nothing
// but 100 contracts and 10 years, an advance of a clock of contracts on
// 1-month AUTO_RENEW terms would have carried out 12,000 renewals, 12,000
// billing periods and, with 30 days' notice, some 358,000 daily tries to
// open a renewal: hours of the worker, other tenants' changes queued
// behind its steps.

// renewingMonthly creates n contracts on the clock in one request, from the
// clock's day, on 1-month AUTO_RENEW terms with a day's notice: a month of
// each is a notice day, a renewal and a period.
func renewingMonthly(t *testing.T, env *testkit.Env, tn testkit.Tenant, clockID string, n int) testkit.Response {
	t.Helper()
	items := make([]map[string]any, n)
	for i := range items {
		items[i] = teamItem(map[string]any{"effectiveDate": "2027-01-10", "expirationDate": "2027-02-10", "paymentMethod": "pm_ok",
			"renewal": monthlyRenewal()})
	}
	body := createBody("ACC-"+tn.Prefix, items...)
	body["testClockId"] = clockID
	return env.Do("POST", "/api/contract-actions", tn.SubmitterKey, body)
}

// Four contracts renewing monthly, advanced by 10 years: 1,444 items, and
// the answer says how far the clock may go, which it may; nothing is
// recorded for the advance refused. Advanced a month, the clock may go a
// month further.
func TestAnAdvanceOverItsWorkIsRefusedSayingHowFarItMayGo(t *testing.T) {
	_, router := openAPI(t)
	env := testkit.New(t)
	c := &conformance{t: t, env: env, router: router}
	sb := env.NewSandboxTenant("SB")
	clockID := createTestClock(t, env, sb, clockStart)
	require.Equal(t, http.StatusOK, renewingMonthly(t, env, sb, clockID, 4).Status)
	path := "/api/test-clocks/" + clockID + "/advance"

	refused := c.do("POST", path, sb.OperatorKey, map[string]any{"to": "2037-01-10T12:00:00Z"}, http.StatusUnprocessableEntity).JSON(t)
	assert.Equal(t, "Unprocessable Entity", refused["code"])
	assert.Equal(t, "to 2037-01-10T12:00:00Z: advancing test clock "+clockID+" there from 2027-01-10T12:00:00Z would carry out 1444 in all: "+
		"480 term ends (a renewal or an expiry each), 480 days of renewal notice (a try to open the renewal each), 484 billing periods and 0 amendments, "+
		"more than the 1200 one advance may; it may go as far as 2035-05-09T23:59:59.999999Z (the end of 2035-05-09) in one advance, and on from there in the next",
		refused["message"])
	assert.Equal(t, "2035-05-09T23:59:59.999999Z", refused["furthestTo"])
	assert.Equal(t, map[string]any{"termEnds": 480.0, "noticeDays": 480.0, "periods": 484.0, "amendments": 0.0, "total": 1444.0}, refused["work"])
	assert.EqualValues(t, 1200, refused["maxWork"])
	clock := readClock(t, env, sb, clockID)
	assert.Equal(t, "ready", clock["status"], "nothing recorded")
	assert.Equal(t, clockStart, clock["frozenTime"])
	assert.NotContains(t, clock, "targetTime")

	past := env.Do("POST", path, sb.OperatorKey, map[string]any{"to": "2035-05-10T00:00:00Z"})
	require.Equal(t, http.StatusUnprocessableEntity, past.Status, "%s", past.Body)
	assert.Equal(t, "2035-05-09T23:59:59.999999Z", past.JSON(t)["furthestTo"])
	back := c.do("POST", path, sb.OperatorKey, map[string]any{"to": "2026-01-10T12:00:00Z"}, http.StatusUnprocessableEntity).JSON(t)
	assert.NotContains(t, back, "furthestTo", "refused for another reason")

	// A month of it: each contract renewed once and billed twice.
	advance(t, env, sb, clockID, "2027-02-10T12:00:00Z")
	awaitReady(t, env, sb, clockID)
	assert.Equal(t, 8, env.CountRows("invoices"))
	again := env.Do("POST", path, sb.OperatorKey, map[string]any{"to": "2037-02-10T12:00:00Z"})
	require.Equal(t, http.StatusUnprocessableEntity, again.Status, "%s", again.Body)
	assert.Equal(t, "2035-07-08T23:59:59.999999Z", again.JSON(t)["furthestTo"], "a hundred months on, from where the clock stands")

	// As far as it says: the advance starts.
	far := advance(t, env, sb, clockID, "2035-07-08T23:59:59.999999Z")
	assert.Equal(t, "2035-07-08T23:59:59.999999Z", far["targetTime"])
	deleted := env.Do("DELETE", "/api/test-clocks/"+clockID, sb.OperatorKey, nil)
	require.Contains(t, []int{http.StatusOK, http.StatusAccepted}, deleted.Status, "%s", deleted.Body)
}

// While a clock advances, what would add to the rest of its advance is
// held to the same bound: a contract created on it, a change of one of its
// contracts, a restart of one's payment schedule. What adds little goes
// through.
func TestWhatWouldTakeAnAdvanceUnderWayOverItsWorkIsRefused(t *testing.T) {
	env := testkit.New(t)
	sb := env.NewSandboxTenant("SB")
	clockID := createTestClock(t, env, sb, clockStart)
	expire := map[string]any{"mode": "EXPIRE"}
	// 12 periods and its expiry; ten years, its schedule cancelled: only its expiry.
	expiring := clockContract(t, env, sb, clockID, map[string]any{"renewal": expire})
	unbilled := clockContract(t, env, sb, clockID, map[string]any{"expirationDate": "2037-01-10", "renewal": expire})
	changeSchedule(t, env, sb, unbilled, "cancelSchedule", scheduleCancelled)
	// The advance recorded, its workflow not started: the clock stays
	// advancing, at its time, for as long as the test needs.
	_, err := env.Store.StartAdvance(t.Context(), sb.ID, clockID, time.Date(2037, 1, 10, 12, 0, 0, 0, time.UTC))
	require.NoError(t, err)

	// Ten contracts for ten years take 121 each.
	tenYears := func(n int) map[string]any {
		items := make([]map[string]any, n)
		for i := range items {
			items[i] = teamItem(map[string]any{"effectiveDate": "2027-01-10", "expirationDate": "2037-01-10", "renewal": expire})
		}
		body := createBody("ACC-TEN", items...)
		body["testClockId"] = clockID
		return body
	}
	resp := env.Do("POST", "/api/contract-actions", sb.SubmitterKey, tenYears(10))
	require.Equal(t, http.StatusUnprocessableEntity, resp.Status, "%s", resp.Body)
	assert.Equal(t, "testClockId: test clock "+clockID+" is advancing to 2037-01-10T12:00:00Z: with these contracts, the rest of its advance, "+
		"from 2027-01-10T12:00:00Z, would carry out 1224 in all: 12 term ends (a renewal or an expiry each), 0 days of renewal notice (a try to open the renewal each), "+
		"1212 billing periods and 0 amendments, more than the 1200 one advance may; send it again once the clock is ready", resp.JSON(t)["message"])
	stuck, err := env.Store.TestClock(t.Context(), sb.ID, clockID) // a read through the API would start its advance
	require.NoError(t, err)
	assert.Equal(t, 2, stuck.Contracts, "none created")
	resp = env.Do("POST", "/api/contract-actions", sb.SubmitterKey, tenYears(9))
	require.Equal(t, http.StatusOK, resp.Status, "1,103 in all: %s", resp.Body)

	// Renewing monthly from the end of its term, the expiring contract's
	// work would be 339 rather than 13: 109 renewals, 109 notice days and
	// 121 periods.
	monthly := change(env, sb.SubmitterKey, termsChange(expiring, monthlyRenewal()))
	require.Equal(t, http.StatusUnprocessableEntity, monthly.Status, "%s", monthly.Body)
	assert.Contains(t, monthly.JSON(t)["errorMessage"], "with this change, the rest of its advance, from 2027-01-10T12:00:00Z, would carry out 1429 in all")
	assert.Equal(t, map[string]any{"mode": "EXPIRE", "termMonths": 12.0, "upliftBasisPoints": 0.0, "noticeDays": 30.0},
		env.Do("GET", "/api/contracts/"+expiring, sb.SubmitterKey, nil).JSON(t)["renewal"], "not changed")
	more := change(env, sb.SubmitterKey, seats(expiring, 7))
	require.Equal(t, http.StatusOK, more.Status, "a change applied at once adds nothing: %s", more.Body)

	// Billed again, the ten-year contract would add 120 periods.
	restart := scheduleCall(env, schedulePath(sb.Prefix, unbilled, "restartSchedule"), sb.SubmitterKey)
	requirePlain(t, restart, http.StatusBadRequest, "test clock "+clockID+" is advancing to 2037-01-10T12:00:00Z: with this restart, the rest of its advance, "+
		"from 2027-01-10T12:00:00Z, would carry out 1223 in all: 11 term ends (a renewal or an expiry each), 0 days of renewal notice (a try to open the renewal each), "+
		"1212 billing periods and 0 amendments, more than the 1200 one advance may; send it again once the clock is ready")
	got := env.Do("GET", "/api/contracts/"+unbilled, sb.SubmitterKey, nil).JSON(t)
	assert.Equal(t, "Terminated", got["paymentSchedule"].(map[string]any)["status"], "still cancelled")

	require.Equal(t, http.StatusOK, env.Do("DELETE", "/api/test-clocks/"+clockID, sb.OperatorKey, nil).Status)
}
