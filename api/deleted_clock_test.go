package api_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/flow"
	"github.com/contractd/contractd/internal/testkit"
)

// A deleted test clock never moves again, so nothing may wait on it. A
// hostile probe restarted the payment schedule of a contract its clock's
// deletion had cancelled: 200, the schedule Active on a cancelled contract,
// and a dunning resumed that waited years ahead on the deleted clock, the
// invoice owed for good; cancelling the schedule answered 200 too. Both are
// the DDCMS surface's 400 now, with its plain-text reason, and the clock
// keeps no wait.
func TestAScheduleOnADeletedClockIsNeitherRestartedNorCancelled(t *testing.T) {
	env := testkit.New(t)
	sb, clockID, ids, accounts := declinedOnClock(t, env, 2)
	// restarted: cancelled by the deletion, with its schedule. cancelled:
	// cancelled before it, owing January, its schedule left Active.
	restarted, cancelled := ids[0], ids[1]
	advanceTo(t, env, sb, clockID, "2026-01-04T00:00:00Z")
	for _, id := range ids {
		january, _ := januaryAttempts(t, env, sb, id)
		require.Equal(t, "UNPAID", january.Status, "declined, being dunned")
	}
	appliedQuote(t, env, sb, cancel(cancelled))

	resp := env.Do("DELETE", "/api/test-clocks/"+clockID, sb.OperatorKey, nil)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	require.Equal(t, "Terminated", scheduleStatus(t, env, sb, restarted))
	require.Equal(t, "Active", scheduleStatus(t, env, sb, cancelled))

	refusal := "The contract is on test clock " + clockID + ", which is deleted; " +
		"the schedule of a contract on a deleted test clock can no longer be cancelled or restarted."
	requirePlain(t, scheduleCall(env, schedulePath(sb.Prefix, restarted, "restartSchedule"), sb.SubmitterKey), http.StatusBadRequest, refusal)
	requirePlain(t, scheduleCall(env, schedulePath(sb.Prefix, cancelled, "cancelSchedule"), sb.SubmitterKey), http.StatusBadRequest, refusal)
	// A customer key changes no schedule: refused before the contract, and
	// so its clock, is looked up.
	customer := env.NewCustomerKey(sb, accounts[0])
	resp = scheduleCall(env, schedulePath(sb.Prefix, restarted, "restartSchedule"), customer)
	requireRefusedToCustomer(t, resp)
	assert.NotContains(t, string(resp.Body), clockID)
	assert.Equal(t, "Terminated", scheduleStatus(t, env, sb, restarted), "not restarted")
	assert.Equal(t, "Active", scheduleStatus(t, env, sb, cancelled), "not cancelled")

	var waits int
	require.NoError(t, env.Store.DB().Get(&waits, `SELECT count(*) FROM test_clock_waits WHERE clock_id = $1`, clockID))
	assert.Zero(t, waits, "nothing waits on the deleted clock")
	for _, id := range ids {
		var invoice string
		require.NoError(t, env.Store.DB().Get(&invoice, `SELECT id FROM invoices WHERE contract_id = $1 AND status = 'UNPAID'`, id))
		dunning, err := env.Temporal.DescribeWorkflowExecution(t.Context(), "dunning/"+sb.ID+"/"+invoice, "")
		require.NoError(t, err)
		assert.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED, dunning.GetWorkflowExecutionInfo().GetStatus(),
			"the dunning the deletion stopped stays stopped")
	}
}

// A workflow that comes to wait on a clock after its deletion stopped the
// clock's workflows (here a dunning resumed as a restart committed just
// before the deletion would resume it) is refused the wait and ends, failed,
// rather than wait on a clock that never moves again; the clock keeps no
// record of it.
func TestAWorkflowThatWouldWaitOnADeletedClockEnds(t *testing.T) {
	env := testkit.New(t)
	sb, clockID, ids, _ := declinedOnClock(t, env, 1)
	advanceTo(t, env, sb, clockID, "2026-01-04T00:00:00Z")
	january, _ := januaryAttempts(t, env, sb, ids[0])
	require.Equal(t, "UNPAID", january.Status)
	resp := env.Do("DELETE", "/api/test-clocks/"+clockID, sb.OperatorKey, nil)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)

	var invoice string
	require.NoError(t, env.Store.DB().Get(&invoice, `SELECT id FROM invoices WHERE contract_id = $1 AND status = 'UNPAID'`, ids[0]))
	inv := flow.InvoiceRef{TenantID: sb.ID, ContractID: ids[0], InvoiceID: invoice, DueDate: domain.NewDate(2026, 1, 1), TestClockID: clockID}
	require.NoError(t, env.Store.HoldClock(t.Context(), clockID, flow.DunningWorkflowID(inv)), "held as a resume holds it")
	// Resumed on a later day than the clock's: its next retry waits.
	resume := &flow.DunningResume{Attempt: 2, On: domain.NewDate(2026, 1, 10)}
	run, err := env.Temporal.ExecuteWorkflow(t.Context(), client.StartWorkflowOptions{ID: flow.DunningWorkflowID(inv), TaskQueue: env.TaskQueue},
		flow.DunningWorkflow, flow.DunningInput{InvoiceRef: inv, Resume: resume})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	err = run.Get(ctx, nil)
	require.Error(t, err, "the dunning ended")
	assert.Contains(t, err.Error(), "test clock "+clockID+" is deleted")

	var waits int
	require.NoError(t, env.Store.DB().Get(&waits, `SELECT count(*) FROM test_clock_waits WHERE clock_id = $1`, clockID))
	assert.Zero(t, waits, "nothing waits on the deleted clock")
}

// scheduleStatus is the status of a contract's payment schedule.
func scheduleStatus(t *testing.T, env *testkit.Env, tn testkit.Tenant, contractID string) string {
	t.Helper()
	got := env.Do("GET", "/api/contracts/"+contractID, tn.SubmitterKey, nil)
	require.Equal(t, http.StatusOK, got.Status, "%s", got.Body)
	return got.JSON(t)["paymentSchedule"].(map[string]any)["status"].(string)
}
