package api_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"

	"github.com/contractd/contractd/internal/flow"
	"github.com/contractd/contractd/internal/testkit"
)

// followUntil reads the amendment a 202 points at until it reaches status;
// until its workflow has recorded it, it is not found.
func followUntil(t *testing.T, env *testkit.Env, location, status string) map[string]any {
	t.Helper()
	return eventually(t, func() map[string]any {
		resp := env.Do("GET", location, env.A.SubmitterKey, nil)
		if resp.Status != http.StatusOK {
			return nil
		}
		return resp.JSON(t)
	}, func(am map[string]any) bool { return am["status"] == status })
}

// A change whose workflow does not answer within AMENDMENT_WAIT (no worker
// polls here: the overloaded worker of a busy machine, made certain) is
// answered 202 PENDING with the amendment to follow, not 503, which would
// invite the client to make the change again. The same request repeated
// with its key meanwhile joins it, and once a worker takes it the change is
// made once.
func TestAChangeNotAnsweredInTimeIsAcceptedAndFollowed(t *testing.T) {
	env := newAmendmentEnv(t)
	ct := fiveSeats(env, nil)
	impatient := env.WithAmendmentWait(300 * time.Millisecond)
	env.StopWorker()

	body := seats(ct["number"].(string), 10)
	resp := change(impatient, env.A.SubmitterKey, body, "Idempotency-Key", "ten-seats")
	require.Equal(t, http.StatusAccepted, resp.Status, "%s", resp.Body)
	got := resp.JSON(t)
	assert.Equal(t, "PENDING", got["status"])
	quote := got["quote"].(map[string]any)
	id := quote["id"].(string)
	assert.Equal(t, "PENDING", quote["status"])
	assert.EqualValues(t, 15500, quote["recurringAfter"], "the price the request was accepted at")
	assert.EqualValues(t, 1, got["contract"].(map[string]any)["version"], "nothing applied yet")
	location := resp.Header.Get("Location")
	assert.Equal(t, "/api/amendments/"+id, location)

	again := change(impatient, env.A.SubmitterKey, body, "Idempotency-Key", "ten-seats")
	require.Equal(t, http.StatusAccepted, again.Status, "%s", again.Body)
	assert.Equal(t, id, again.JSON(t)["quote"].(map[string]any)["id"], "the repeat joins the same amendment")

	env.StartWorker()
	am := followUntil(t, env, location, "APPLIED")
	assert.EqualValues(t, 4113, am["quote"].(map[string]any)["prorationTotal"])
	contract := env.Do("GET", "/api/contracts/"+ct["id"].(string), env.A.SubmitterKey, nil).JSON(t)
	assert.EqualValues(t, 2, contract["version"], "applied once")

	// Asked once more, the key now answers with what was done.
	done := change(impatient, env.A.SubmitterKey, body, "Idempotency-Key", "ten-seats")
	require.Equal(t, http.StatusOK, done.Status, "%s", done.Body)
	assert.Equal(t, "SUCCESS", done.JSON(t)["status"])
}

// The crossgrade surface answers the same way, in its own format.
func TestACrossgradeNotAnsweredInTimeIsAcceptedAndFollowed(t *testing.T) {
	env := newAmendmentEnv(t)
	ct := fiveSeats(env, nil)
	impatient := env.WithAmendmentWait(300 * time.Millisecond)
	env.StopWorker()

	resp := crossgrade(impatient, ct, map[string]any{"salesItemCode": "BUSINESS-M"})
	require.Equal(t, http.StatusAccepted, resp.Status, "%s", resp.Body)
	am := resp.JSON(t)["amendment"].(map[string]any)
	assert.Equal(t, "PENDING", am["status"])
	assert.Equal(t, "CROSSGRADE", am["action"])
	location := resp.Header.Get("Location")
	assert.Equal(t, "/api/amendments/"+am["id"].(string), location)

	env.StartWorker()
	followUntil(t, env, location, "APPLIED")
	// The payment is captured once the change is applied, a step after it.
	id := am["id"].(string)
	require.Eventually(t, func() bool { return ledger(t, env, id)["CAPTURE"] > 0 }, time.Minute, 100*time.Millisecond)
	assert.Equal(t, map[string]int{"AUTHORISE": 1, "CAPTURE": 1}, ledger(t, env, id))
}

// A wait that ends before the change's start has reached Temporal (a wait
// shorter than a round trip, a Temporal server slow to take starts) still
// answers 202 PENDING with the amendment to follow, and the change is made
// once: a 503 would invite a client without an Idempotency-Key to send it
// again, while the first start may still land.
func TestAWaitEndingBeforeTheStartStillAcceptsTheChangeOnce(t *testing.T) {
	env := newAmendmentEnv(t)
	ct := fiveSeats(env, nil)
	hasty := env.WithAmendmentWait(time.Nanosecond)

	resp := change(hasty, env.A.SubmitterKey, seats(ct["number"].(string), 10))
	require.Equal(t, http.StatusAccepted, resp.Status, "%s", resp.Body)
	assert.Equal(t, "PENDING", resp.JSON(t)["status"])
	followUntil(t, env, resp.Header.Get("Location"), "APPLIED")
	contract := env.Do("GET", "/api/contracts/"+ct["id"].(string), env.A.SubmitterKey, nil).JSON(t)
	assert.EqualValues(t, 2, contract["version"], "applied once")
}

// Asked for its answer once its workflow has closed (a repeat that read the
// amendment while its workflow was finishing, or an ask repeated after a
// wait Temporal cut short, which Temporal aborts as the workflow closes),
// the client is told to read the amendment as it stands, not given
// Temporal's NotFound, which the API answered 500.
func TestAnAnswerAskedOfAClosedWorkflowIsReadFromTheStore(t *testing.T) {
	env := newAmendmentEnv(t)
	ct := fiveSeats(env, nil)
	resp := change(env, env.A.SubmitterKey, seats(ct["id"].(string), 10))
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	workflowID := flow.AmendmentWorkflowID(resp.JSON(t)["quote"].(map[string]any)["id"].(string))
	require.Eventually(t, func() bool {
		d, err := env.Temporal.DescribeWorkflowExecution(t.Context(), workflowID, "")
		return err == nil && d.GetWorkflowExecutionInfo().GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING
	}, 30*time.Second, 50*time.Millisecond, "the applied change's workflow closes")

	_, err := flow.NewClient(env.Temporal, env.TaskQueue, nil).AmendmentOutcome(t.Context(), workflowID, "another-ask", env.A.ID, 5*time.Second)
	assert.ErrorIs(t, err, flow.ErrAnswerPending)
}
