package api_test

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/flow"
	"github.com/contractd/contractd/internal/testkit"
)

// An approval Postgres holds but the amendment's workflow lost (the
// workflow task that took it failed after the approval's step committed,
// and Temporal aborted the Update: a probe approving three held changes on
// one contract at once saw it) is not the end of the amendment. The
// approver's retry, which the API used to answer from Postgres alone,
// sends the decision again: the workflow, still waiting for one, takes it,
// the store's step returns the approval as it stands, and the change is
// applied.
func TestAnApprovalItsWorkflowLostIsTakenAgainOnRetry(t *testing.T) {
	env := newAmendmentEnv(t)
	ct := fiveSeats(env, nil)
	id := heldSeats(t, env, ct, 8)

	// The approval's step, committed without its workflow knowing.
	approver := approverActor(t, env, env.A)
	_, _, err := env.Store.Approve(t.Context(), env.A.ID, id,
		domain.AmendmentEvent{Status: flow.EventApproved, ActorID: approver, Source: "USER", At: env.Clock.Now()}, nil)
	require.NoError(t, err)

	retry := env.Do("POST", "/api/amendments/"+id+"/approve", env.A.ApproverKey, nil)
	require.Equal(t, http.StatusOK, retry.Status, "%s", retry.Body)
	am := followUntil(t, env, "/api/amendments/"+id, domain.StatusApplied)
	assert.Equal(t, domain.StatusApplied, am["status"])
	assert.EqualValues(t, 2, contractVersion(t, env, ct["id"].(string)), "the change applied, once")
}

// Three changes held for approval on one contract, each approved ten
// times at once by its approver (a client retrying, or a double click):
// every request is answered 200, and the three apply, in the order they
// were accepted, each once. A probe saw this leave a change PENDING for
// good (its apply gave up after 30 s of waiting its turn) or answered after
// 30 to 40 s: ten approvals of one change were ten Updates in flight,
// Temporal's limit, which kept out the notice that the change before it
// had moved.
func TestConcurrentApprovalsOfHeldChangesOnOneContract(t *testing.T) {
	env := newAmendmentEnv(t)
	ct := fiveSeats(env, nil)
	var ids []string
	for _, n := range []int{8, 9, 10} {
		ids = append(ids, heldSeats(t, env, ct, n))
	}

	statuses := make(chan int, 30)
	var wg sync.WaitGroup
	for range 10 {
		for _, id := range ids {
			wg.Add(1)
			go func() {
				defer wg.Done()
				statuses <- env.Do("POST", "/api/amendments/"+id+"/approve", env.A.ApproverKey, map[string]any{"comment": "ok"}).Status
			}()
		}
	}
	wg.Wait()
	close(statuses)
	for status := range statuses {
		assert.Equal(t, http.StatusOK, status)
	}
	for _, id := range ids {
		followUntil(t, env, "/api/amendments/"+id, domain.StatusApplied)
	}
	assert.EqualValues(t, 4, contractVersion(t, env, ct["id"].(string)), "three changes, each applied once")
}

// heldSeats holds a change of contract ct to n seats for approval and
// returns the amendment's id.
func heldSeats(t *testing.T, env *testkit.Env, ct map[string]any, n int) string {
	t.Helper()
	review := seats(ct["number"].(string), n)
	review["requireApproval"] = true
	return held(t, env, review)
}

// approverActor is the actor of tenant tn's approver key.
func approverActor(t *testing.T, env *testkit.Env, tn testkit.Tenant) string {
	var actor string
	require.NoError(t, env.Store.DB().Get(&actor, `SELECT actor_id FROM api_keys WHERE tenant_id = $1 AND roles = '{approver}'`, tn.ID))
	return actor
}

// An approval whose workflow does not act on it within AMENDMENT_WAIT (no
// worker here; in practice an apply waiting its turn behind another change)
// is answered 202 with the amendment to follow, not held open; sent again
// it joins the same Update, and once a worker runs the change applies once.
func TestAnApprovalNotActedOnInTimeIsAnswered202(t *testing.T) {
	env := newAmendmentEnv(t)
	ct := fiveSeats(env, nil)
	id := heldSeats(t, env, ct, 8)
	impatient := env.WithAmendmentWait(300 * time.Millisecond)
	env.StopWorker()

	for range 2 {
		resp := impatient.Do("POST", "/api/amendments/"+id+"/approve", env.A.ApproverKey, map[string]any{"comment": "ok"})
		require.Equal(t, http.StatusAccepted, resp.Status, "%s", resp.Body)
		assert.Equal(t, "/api/amendments/"+id, resp.Header.Get("Location"))
		assert.Equal(t, domain.StatusReview, resp.JSON(t)["status"], "not acted on yet")
	}
	env.StartWorker()
	followUntil(t, env, "/api/amendments/"+id, domain.StatusApplied)
	assert.EqualValues(t, 2, contractVersion(t, env, ct["id"].(string)), "applied once")
}
