package api_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/flow"
	"github.com/contractd/contractd/internal/testkit"
)

// A rejection Postgres holds but the amendment's workflow lost, as a
// withdrawal can be (see withdraw_lost_test.go): the workflow task that
// took it failed after the rejection's step committed, Temporal aborted the
// Update and the client sent it again. The workflow, replayed, had read the
// amendment REJECTED when told its contract's timeline changed, refused the
// rejection sent again with 409 ("this one is REJECTED") and waited for the
// review to expire; a retry once the amendment read REJECTED was answered
// from Postgres alone, so the workflow never heard of it.

// rejectedWithoutItsWorkflow commits amendment id's rejection by the
// tenant's approver as the rejection's step does, its workflow not knowing.
func rejectedWithoutItsWorkflow(t *testing.T, env *testkit.Env, id string) {
	t.Helper()
	note := "too many seats"
	_, _, err := env.Store.Transition(t.Context(), env.A.ID, id, []string{domain.StatusReview}, domain.AmendmentEvent{
		Status: domain.StatusRejected, ActorID: approverActor(t, env, env.A), Source: "USER", Note: &note, At: env.Clock.Now(),
	})
	require.NoError(t, err)
}

// The workflow reads the amendment rejected (here told its timeline
// changed, as a concurrent change tells it) before the rejection comes
// again: it takes the rejection and ends, and the rejection sent again is
// answered 200 with the amendment rejected.
func TestARejectionItsWorkflowLostAndReadEndsTheWorkflow(t *testing.T) {
	env := newAmendmentEnv(t)
	id := heldSeats(t, env, fiveSeats(env, nil), 8)
	rejectedWithoutItsWorkflow(t, env, id)

	told, err := flow.NewClient(env.Temporal, env.TaskQueue, testkit.UpdateKey).TellTimelineChanged(t.Context(), flow.AmendmentWorkflowID(id))
	require.NoError(t, err)
	require.True(t, told, "the workflow was running")
	workflowEnds(t, env, id)

	again := env.Do("POST", "/api/amendments/"+id+"/reject", env.A.ApproverKey, map[string]any{"comment": "too many seats"})
	require.Equal(t, http.StatusOK, again.Status, "%s", again.Body)
	assert.Equal(t, domain.StatusRejected, again.JSON(t)["status"])
}

// Nothing tells the workflow: the approver's retry, which the API used to
// answer from Postgres alone, sends the rejection again, and the workflow
// takes it and ends.
func TestARejectionItsWorkflowLostIsTakenAgainOnRetry(t *testing.T) {
	env := newAmendmentEnv(t)
	id := heldSeats(t, env, fiveSeats(env, nil), 8)
	rejectedWithoutItsWorkflow(t, env, id)

	again := env.Do("POST", "/api/amendments/"+id+"/reject", env.A.ApproverKey, map[string]any{"comment": "too many seats"})
	require.Equal(t, http.StatusOK, again.Status, "%s", again.Body)
	assert.Equal(t, domain.StatusRejected, again.JSON(t)["status"])
	workflowEnds(t, env, id)
}
