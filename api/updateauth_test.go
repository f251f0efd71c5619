package api_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/contractd/contractd/internal/flow"
	"github.com/contractd/contractd/internal/testkit"
)

// sendDirect sends an Update straight to Temporal's frontend, as the Web UI
// or the CLI would, bypassing the API's keys, roles and tenants.
func sendDirect(ctx context.Context, env *testkit.Env, amendmentID, update string, arg any) error {
	ctx, cancel := context.WithTimeout(ctx, patience)
	defer cancel()
	handle, err := env.Temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: flow.AmendmentWorkflowID(amendmentID), UpdateName: update, Args: []any{arg},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err == nil {
		err = handle.Get(ctx, nil)
	}
	return err
}

// Operators inspect, they do not decide: an Update that did not come through
// the API is refused by the workflow, whoever it claims to come from.
func TestUpdatesNotSentByTheAPIAreRefused(t *testing.T) {
	env := newAmendmentEnv(t)
	ct := fiveSeats(env, nil)
	id := heldForReview(t, env, ct["id"].(string))
	mallory := flow.Actor{ID: "made-up-approver", Source: "USER"}
	approve := flow.Decision{Actor: mallory, Comment: "approved from the UI"}
	bg := context.Background()

	refused := func(name string, err error) {
		t.Helper()
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), "only the API may send", name)
	}
	refused("unsigned approve", sendDirect(bg, env, id, flow.UpdateApprove, approve))
	refused("unsigned reject", sendDirect(bg, env, id, flow.UpdateReject, approve))
	refused("unsigned withdraw", sendDirect(bg, env, id, flow.UpdateWithdraw, mallory))
	refused("unsigned outcome", sendDirect(bg, env, id, flow.UpdateOutcome, "any"))

	// A signature read from a history is good for its own Update, actor and
	// amendment only, and only until it expires.
	wfID := flow.AmendmentWorkflowID(id)
	now := time.Now()
	signed := func(update, actor string, arg any, at time.Time) context.Context {
		return flow.WithUpdateGrant(bg, testkit.UpdateKey.Grant(wfID, update, actor, arg, at))
	}
	refused("another actor's signature", sendDirect(signed(flow.UpdateApprove, "someone-else", approve, now), env, id, flow.UpdateApprove, approve))
	refused("another update's signature", sendDirect(signed(flow.UpdateReject, mallory.ID, approve, now), env, id, flow.UpdateApprove, approve))
	refused("an expired signature", sendDirect(signed(flow.UpdateApprove, mallory.ID, approve, now.Add(-flow.GrantTTL-time.Minute)), env, id, flow.UpdateApprove, approve))
	// A probe read the signature of an approval the API had sent (refused
	// for its stale quote version) from the history, and sent it again with
	// another body: no quote version, another source and comment.
	stale := int64(99)
	sent := flow.Decision{Actor: mallory, Comment: "as sent", QuoteVersion: &stale}
	replayed := flow.Decision{Actor: flow.Actor{ID: mallory.ID, Source: "CUSTOMER"}, Comment: "replayed"}
	refused("a signature for another body", sendDirect(signed(flow.UpdateApprove, mallory.ID, sent, now), env, id, flow.UpdateApprove, replayed))
	forged := flow.UpdateKey("not the key the workers hold, but long enough").Grant(wfID, flow.UpdateApprove, mallory.ID, approve, now)
	refused("a signature with another key", sendDirect(flow.WithUpdateGrant(bg, forged), env, id, flow.UpdateApprove, approve))

	got := env.Do("GET", "/api/amendments/"+id, env.A.SubmitterKey, nil).JSON(t)
	assert.Equal(t, "REVIEW", got["status"], "nothing was decided")
	assert.Len(t, got["history"], 2, "PENDING, REVIEW and nothing since")

	// Through the API, an approver still decides.
	resp := answered(t, env, "POST", "/api/amendments/"+id+"/approve", env.A.ApproverKey, map[string]any{"comment": "fine"})
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	assert.Equal(t, "APPLIED", resp.JSON(t)["status"])
}
