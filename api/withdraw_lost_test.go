package api_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"

	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/flow"
	"github.com/contractd/contractd/internal/testkit"
)

// A withdrawal Postgres holds but the amendment's workflow lost: the
// workflow task that took it failed after the withdrawal's step committed
// (the SDK failed it, "premature end of stream"), Temporal aborted the
// Update and the client sent it again. A probe withdrawing ten scheduled
// changes of one contract at once, beside six immediate changes to it, saw
// about one withdrawal in ten answered 409 ("this one is WITHDRAWN") and
// its workflow left running until the change's date: replayed, the
// workflow had read the amendment WITHDRAWN when told its contract's
// timeline changed, and refused the Update sent again.

// scheduledSeats schedules a change of contract ct to n seats on a day and
// returns the amendment's id.
func scheduledSeats(t *testing.T, env *testkit.Env, ct map[string]any, n int, on string) string {
	t.Helper()
	resp := change(env, env.A.SubmitterKey, seatsOn(ct["number"].(string), n, on))
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	quote := resp.JSON(t)["quote"].(map[string]any)
	require.Equal(t, domain.StatusScheduled, quote["status"])
	return quote["id"].(string)
}

// withdrawnWithoutItsWorkflow commits amendment id's withdrawal by its
// submitter as the withdrawal's step does, its workflow not knowing.
func withdrawnWithoutItsWorkflow(t *testing.T, env *testkit.Env, id string) {
	t.Helper()
	_, _, err := env.Store.Transition(t.Context(), env.A.ID, id, []string{domain.StatusScheduled},
		domain.AmendmentEvent{Status: domain.StatusWithdrawn, ActorID: env.A.SubmitterActor, Source: "USER", At: env.Clock.Now()})
	require.NoError(t, err)
}

// workflowEnds waits until amendment id's workflow has ended.
func workflowEnds(t *testing.T, env *testkit.Env, id string) {
	t.Helper()
	require.Eventually(t, func() bool {
		d, err := env.Temporal.DescribeWorkflowExecution(t.Context(), flow.AmendmentWorkflowID(id), "")
		return err == nil && d.GetWorkflowExecutionInfo().GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING
	}, time.Minute, 100*time.Millisecond, "the workflow of ended amendment %s still runs", id)
}

// The workflow reads the amendment withdrawn (here told its timeline
// changed, as a concurrent change tells it) before the withdrawal comes
// again: it takes the withdrawal and ends, and the withdrawal sent again
// is answered 200 with the amendment withdrawn.
func TestAWithdrawalItsWorkflowLostAndReadEndsTheWorkflow(t *testing.T) {
	env := newAmendmentEnv(t)
	ct := fiveSeats(env, nil)
	id := scheduledSeats(t, env, ct, 8, "2027-02-01")
	withdrawnWithoutItsWorkflow(t, env, id)

	told, err := flow.NewClient(env.Temporal, env.TaskQueue, testkit.UpdateKey).TellTimelineChanged(t.Context(), flow.AmendmentWorkflowID(id))
	require.NoError(t, err)
	require.True(t, told, "the workflow was running")
	workflowEnds(t, env, id)

	again := env.Do("POST", "/api/amendments/"+id+"/withdraw", env.A.SubmitterKey, nil)
	require.Equal(t, http.StatusOK, again.Status, "%s", again.Body)
	assert.Equal(t, domain.StatusWithdrawn, again.JSON(t)["status"])
}

// Nothing tells the workflow: the withdrawer's retry, which the API used
// to answer from Postgres alone, sends the withdrawal again, and the
// workflow takes it and ends.
func TestAWithdrawalItsWorkflowLostIsTakenAgainOnRetry(t *testing.T) {
	env := newAmendmentEnv(t)
	ct := fiveSeats(env, nil)
	id := scheduledSeats(t, env, ct, 8, "2027-02-01")
	withdrawnWithoutItsWorkflow(t, env, id)

	again := env.Do("POST", "/api/amendments/"+id+"/withdraw", env.A.SubmitterKey, nil)
	require.Equal(t, http.StatusOK, again.Status, "%s", again.Body)
	assert.Equal(t, domain.StatusWithdrawn, again.JSON(t)["status"])
	workflowEnds(t, env, id)
}

// The probe's race, as it ran it: ten scheduled changes of one contract
// withdrawn at once, beside six immediate changes to it. Every withdrawal
// is answered 200 and every withdrawn amendment's workflow ends (the
// invariants checked after the test read the rest). The loss it provoked
// comes from Temporal, not every run.
func TestConcurrentWithdrawalsBesideImmediateChangesAllEnd(t *testing.T) {
	env := newAmendmentEnv(t)
	ct := fiveSeats(env, nil)
	var ids []string
	for i := range 10 {
		ids = append(ids, scheduledSeats(t, env, ct, 20+i, fmt.Sprintf("2027-%02d-01", i+1)))
	}

	answers := make(chan testkit.Response, len(ids))
	var wg sync.WaitGroup
	for _, id := range ids {
		wg.Go(func() { answers <- env.Do("POST", "/api/amendments/"+id+"/withdraw", env.A.SubmitterKey, nil) })
	}
	for n := range 6 {
		wg.Go(func() { change(env, env.A.SubmitterKey, seats(ct["number"].(string), 6+n)) })
	}
	wg.Wait()
	close(answers)
	for resp := range answers {
		if assert.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body) {
			assert.Equal(t, domain.StatusWithdrawn, resp.JSON(t)["status"])
		}
	}
	for _, id := range ids {
		workflowEnds(t, env, id)
	}
}
