package api_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/testkit"
)

// A tenant's advances under way share the 1,200 items of work: a sandbox
// tenant may have up to 100 clocks, and each advancing by 1,200 at
// once would have held the worker as many times as long. Clock A's advance
// (its workflow not started, so it stays advancing for the test) holds the
// work of its two contracts' six years, raised when two more contracts are
// created on it meanwhile; clock B, the same four contracts, may not go as
// far beside it (409, though alone it could), nor 10 years (422, as alone);
// another tenant's clock is not held to it; and once A is deleted, its
// hold counts no more.
func TestATenantsAdvancesUnderWayShareTheirWork(t *testing.T) {
	_, router := openAPI(t)
	env := testkit.New(t)
	c := &conformance{t: t, env: env, router: router}
	sb := env.NewSandboxTenant("SB")
	clockA, clockB := createTestClock(t, env, sb, clockStart), createTestClock(t, env, sb, clockStart)
	require.Equal(t, http.StatusOK, renewingMonthly(t, env, sb, clockA, 2).Status)
	require.Equal(t, http.StatusOK, renewingMonthly(t, env, sb, clockB, 4).Status)
	sixYears := "2033-01-10T12:00:00Z"
	_, err := env.Store.StartAdvance(t.Context(), sb.ID, clockA, time.Date(2033, 1, 10, 12, 0, 0, 0, time.UTC))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, renewingMonthly(t, env, sb, clockA, 2).Status, "within the advance's bound: its hold is raised")

	pathB := "/api/test-clocks/" + clockB + "/advance"
	refused := c.do("POST", pathB, sb.OperatorKey, map[string]any{"to": sixYears}, http.StatusConflict).JSON(t)
	work := refused["work"].(map[string]any)["total"].(float64)
	assert.Greater(t, work, 600.0, "each alone is within 1,200; together they are not")
	assert.LessOrEqual(t, work, 1200.0)
	assert.Equal(t, work, refused["workUnderWay"], "A holds the work of the same four contracts over the same years")
	assert.EqualValues(t, 1200, refused["maxWork"])
	assert.Contains(t, refused["message"], "this tenant's advances may carry out at once (its other advances under way, of test clocks "+clockA+", carry ")
	assert.Contains(t, refused["message"], "now, and further once they end")
	assert.Equal(t, "ready", readClock(t, env, sb, clockB)["status"], "nothing recorded")
	tooFar := c.do("POST", pathB, sb.OperatorKey, map[string]any{"to": "2037-01-10T12:00:00Z"}, http.StatusUnprocessableEntity).JSON(t)
	assert.Equal(t, work, tooFar["workUnderWay"])

	other := env.NewSandboxTenant("SC")
	clockC := createTestClock(t, env, other, clockStart)
	require.Equal(t, http.StatusOK, renewingMonthly(t, env, other, clockC, 4).Status)
	advance(t, env, other, clockC, sixYears)
	require.Equal(t, http.StatusOK, env.Do("DELETE", "/api/test-clocks/"+clockC, other.OperatorKey, nil).Status)

	require.Equal(t, http.StatusOK, env.Do("DELETE", "/api/test-clocks/"+clockA, sb.OperatorKey, nil).Status)
	advance(t, env, sb, clockB, sixYears)
	deleted := env.Do("DELETE", "/api/test-clocks/"+clockB, sb.OperatorKey, nil)
	require.Contains(t, []int{http.StatusOK, http.StatusAccepted}, deleted.Status, "%s", deleted.Body)
}

// Two advances asked for at once, each within the work alone but not
// together: one starts, the other is refused 409. Both are held, by a lock
// of the table of holds, until each has gone as far as it can before
// writing its hold: the tenant's clock-work lock orders them, the second
// waiting for the first before it reads what the others hold; without it,
// each read the other's hold before it was written, and both started.
func TestAdvancesStartedAtOnceDoNotBothTakeTheLastOfTheWork(t *testing.T) {
	env := testkit.New(t)
	sb := env.NewSandboxTenant("SB")
	clocks := []string{createTestClock(t, env, sb, clockStart), createTestClock(t, env, sb, clockStart)}
	for _, id := range clocks {
		require.Equal(t, http.StatusOK, renewingMonthly(t, env, sb, id, 4).Status)
	}
	blocked, release := holdTable(t, env.Store.DB().DB, "clock_advance_work", "EXCLUSIVE")
	to := time.Date(2033, 1, 10, 12, 0, 0, 0, time.UTC)
	errs := make(chan error, len(clocks))
	for _, id := range clocks {
		go func() {
			_, err := env.Store.StartAdvance(t.Context(), sb.ID, id, to)
			errs <- err
		}()
	}
	require.Eventually(t, func() bool { return blocked() == len(clocks) }, 10*time.Second, 10*time.Millisecond)
	release()
	var started, refused int
	for range clocks {
		switch err := <-errs; {
		case err == nil:
			started++
		case domain.KindOf(err) == domain.KindConflict:
			refused++
		default:
			t.Errorf("unexpected error: %v", err)
		}
	}
	assert.Equal(t, 1, started)
	assert.Equal(t, 1, refused)
}

// An accepted cancellation ends its contract's work in the count of an
// advance: withdrawn while the clock advances, it would give the advance
// years of renewals and periods it was not counted for. The withdrawal is
// refused (409) until the clock is ready.
func TestAnAcceptedChangeIsNotWithdrawnWhileItsClockAdvances(t *testing.T) {
	env := testkit.New(t)
	sb := env.NewSandboxTenant("SB")
	clockID := createTestClock(t, env, sb, clockStart)
	id := clockContract(t, env, sb, clockID, map[string]any{"renewal": monthlyRenewal()})
	cancel := change(env, sb.SubmitterKey, map[string]any{"action": "CANCELLATION", "contractId": id, "effectiveDate": "2027-01-11", "payload": nil})
	require.Equal(t, http.StatusOK, cancel.Status, "%s", cancel.Body)
	amendmentID := cancel.JSON(t)["quote"].(map[string]any)["id"].(string)
	_, err := env.Store.StartAdvance(t.Context(), sb.ID, clockID, time.Date(2036, 1, 10, 12, 0, 0, 0, time.UTC))
	require.NoError(t, err, "within its work: the contract ends the next day")

	refused := env.Do("POST", "/api/amendments/"+amendmentID+"/withdraw", sb.SubmitterKey, nil)
	require.Equal(t, http.StatusConflict, refused.Status, "%s", refused.Body)
	assert.Equal(t, "amendment "+amendmentID+" is part of the work counted for the advance of test clock "+clockID+
		", which its contract is on: withdraw it once the clock is ready", refused.JSON(t)["message"])
	got := env.Do("GET", "/api/amendments/"+amendmentID, sb.SubmitterKey, nil).JSON(t)
	assert.Equal(t, "SCHEDULED", got["status"], "not withdrawn")
	require.Equal(t, http.StatusOK, env.Do("DELETE", "/api/test-clocks/"+clockID, sb.OperatorKey, nil).Status)
}
