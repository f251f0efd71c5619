package api_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/auth"
)

// requireActorNames checks that every event of an amendment's history names
// its actor when the actor is a key, and only then.
func requireActorNames(t *testing.T, history any, names map[string]string) map[string]string {
	t.Helper()
	byStatus := map[string]string{}
	for _, h := range history.([]any) {
		ev := h.(map[string]any)
		actor := ev["actorId"].(string)
		name, isKey := names[actor]
		if isKey {
			assert.Equal(t, name, ev["actorName"], "%v", ev)
		} else {
			assert.NotContains(t, ev, "actorName", "%s is no key", actor)
		}
		byStatus[ev["status"].(string)] = name
	}
	return byStatus
}

func TestActorsAreShownByTheirKeysDisplayNames(t *testing.T) {
	env := newAmendmentEnv(t)
	putRules(t, env, cancellationsNeedApproval)
	sam, samID, samActor := addNamedKey(t, env, env.A, "Sam Submitter", auth.RoleSubmitter)
	ada, _, adaActor := addNamedKey(t, env, env.A, "Ada Approver ✓", auth.RoleApprover)
	names := map[string]string{samActor: "Sam Submitter", adaActor: "Ada Approver ✓", env.A.SubmitterActor: "submitter key"}

	ct := fiveSeats(env, nil)
	resp := change(env, sam, cancel(ct["id"]))
	require.Equal(t, http.StatusAccepted, resp.Status, "%s", resp.Body)
	id := resp.JSON(t)["quote"].(map[string]any)["id"].(string)

	// The approvers' inbox names the submitter beside its uuid.
	inbox := env.Do("GET", "/api/approvals", ada, nil)
	require.Equal(t, http.StatusOK, inbox.Status, "%s", inbox.Body)
	items := inbox.JSON(t)["items"].([]any)
	require.Len(t, items, 1)
	item := items[0].(map[string]any)
	assert.Equal(t, samActor, item["submittedBy"])
	assert.Equal(t, "Sam Submitter", item["submittedByName"])

	// So does the decision's answer, and every event of the history.
	approved := env.Do("POST", "/api/amendments/"+id+"/approve", ada, map[string]any{"comment": "fine"})
	require.Equal(t, http.StatusOK, approved.Status, "%s", approved.Body)
	body := approved.JSON(t)
	assert.Equal(t, samActor, body["submittedBy"])
	assert.Equal(t, "Sam Submitter", body["submittedByName"])
	assert.Equal(t, "Ada Approver ✓", requireActorNames(t, body["history"], names)["APPROVED"])

	// A revoked key still names its actor: history outlives keys.
	require.NoError(t, env.Store.RevokeKey(context.Background(), env.A.ID, samID, time.Now()))
	am := env.Do("GET", "/api/amendments/"+id, env.A.ApproverKey, nil).JSON(t)
	assert.Equal(t, "Sam Submitter", am["submittedByName"])
	byStatus := requireActorNames(t, am["history"], names)
	assert.Equal(t, "Sam Submitter", byStatus["PENDING"])
	assert.Equal(t, "Ada Approver ✓", byStatus["APPROVED"])

	listed := env.Do("GET", "/api/contracts/"+ct["id"].(string)+"/amendments", env.A.ApproverKey, nil).JSON(t)["items"].([]any)
	require.NotEmpty(t, listed)
	for _, l := range listed {
		l := l.(map[string]any)
		assert.Equal(t, names[l["submittedBy"].(string)], l["submittedByName"], "%v", l)
	}

	// Contracts name who created and last updated them; the uuids stay.
	contract := env.Do("GET", "/api/contracts/"+ct["id"].(string), env.A.ApproverKey, nil).JSON(t)
	assert.Equal(t, env.A.SubmitterActor, contract["createdBy"])
	assert.Equal(t, "submitter key", contract["createdByName"])
	page := env.Do("GET", "/api/contracts?accountNumber="+ct["accountNumber"].(string), env.A.ApproverKey, nil).JSON(t)
	assert.Equal(t, "submitter key", page["items"].([]any)[0].(map[string]any)["createdByName"])
}

func TestContractsNameWhoChangedTheirSegmentsAndSchedule(t *testing.T) {
	env := newAmendmentEnv(t)
	dee, _, deeActor := addNamedKey(t, env, env.A, "Dee in accounts", auth.RoleSubmitter)
	ct := fiveSeats(env, nil)
	requirePlain(t, scheduleCall(env, schedulePath(env.A.Prefix, ct["id"].(string), "cancelSchedule"), dee), http.StatusOK,
		"Contract schedule was cancelled successfully.")

	got := env.Do("GET", "/api/contracts/"+ct["id"].(string), env.A.OperatorKey, nil).JSON(t)
	segments := got["segments"].([]any)
	require.NotEmpty(t, segments)
	seg := segments[0].(map[string]any)
	assert.Equal(t, env.A.SubmitterActor, seg["createdBy"])
	assert.Equal(t, "submitter key", seg["createdByName"])
	history := got["paymentSchedule"].(map[string]any)["history"].([]any)
	require.Len(t, history, 2)
	first, last := history[0].(map[string]any), history[1].(map[string]any)
	assert.Equal(t, "submitter key", first["actorName"])
	assert.Equal(t, deeActor, last["actorId"])
	assert.Equal(t, "Dee in accounts", last["actorName"])
}
