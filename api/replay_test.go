package api_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/temporalproto"
	"go.temporal.io/sdk/converter"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/flow"
	"github.com/contractd/contractd/internal/testkit"
	"github.com/contractd/contractd/workflows"
)

// TestAmendmentHistoriesReplay replays real histories (an immediate change,
// a scheduled change withdrawn while waiting, a held change approved, one
// left undecided until its review expired, and a crossgrade upgrade with
// its payment) against today's workflow code. With
// RECORD_HISTORY=1 it also records them in workflows/testdata, whose files
// (of every version so far) the workflows package replays to catch
// non-deterministic changes.
func TestAmendmentHistoriesReplay(t *testing.T) {
	env := newAmendmentEnv(t)
	ct := fiveSeats(env, nil)
	immediate := change(env, env.A.SubmitterKey, seats(ct["id"].(string), 7))
	require.Equal(t, http.StatusOK, immediate.Status, "%s", immediate.Body)
	future := seats(ct["id"].(string), 8)
	future["effectiveDate"] = "2026-06-01"
	scheduled := change(env, env.A.SubmitterKey, future)
	require.Equal(t, http.StatusOK, scheduled.Status, "%s", scheduled.Body)
	scheduledID := scheduled.JSON(t)["quote"].(map[string]any)["id"].(string)
	require.Equal(t, http.StatusOK, env.Do("POST", "/api/amendments/"+scheduledID+"/withdraw", env.A.SubmitterKey, nil).Status)

	// Held for review, then approved; and a crossgrade upgrade paid up front.
	putRules(t, env,
		map[string]any{"id": "huge", "name": "Huge seat increases", "when": `action == "QUANTITY_CHANGE" && quote.percentChange > 400.0`, "expiresAfter": "2s"},
		map[string]any{"id": "big", "name": "Big seat increases", "when": `action == "QUANTITY_CHANGE" && quote.percentChange > 50.0`})
	other := fiveSeats(env, nil)
	reviewed := held(t, env, seats(other["id"].(string), 20))
	// Held, and left undecided until its review expires.
	expired := held(t, env, seats(fiveSeats(env, nil)["id"].(string), 30))
	followUntil(t, env, "/api/amendments/"+expired, domain.StatusExpired)
	require.Equal(t, http.StatusOK, env.Do("POST", "/api/amendments/"+reviewed+"/approve", env.A.ApproverKey, nil).Status)
	upgrade := crossgrade(env, fiveSeats(env, nil), map[string]any{"salesItemCode": "BUSINESS-M"})
	require.Equal(t, http.StatusOK, upgrade.Status, "%s", upgrade.Body)

	histories := map[string]string{
		"amendment_immediate": immediate.JSON(t)["quote"].(map[string]any)["id"].(string),
		"amendment_withdrawn": scheduledID,
		"amendment_approved":  reviewed,
		"crossgrade_upgrade":  upgrade.JSON(t)["amendment"].(map[string]any)["id"].(string),
		"amendment_expired":   expired,
	}
	for file, id := range histories {
		h := history(t, env, flow.AmendmentWorkflowID(id))
		replayer := sdkworker.NewWorkflowReplayer()
		replayer.RegisterWorkflow(workflows.AmendmentWorkflow)
		require.NoError(t, replayer.ReplayWorkflowHistory(nil, h), file)
		if os.Getenv("RECORD_HISTORY") == "1" {
			raw, err := temporalproto.CustomJSONMarshalOptions{Indent: "  "}.Marshal(h)
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(filepath.Join("..", "workflows", "testdata", file+"."+historyVersion+".json"), raw, 0o644))
		}
	}
}

// historyVersion names the recorded files of today's workflow logic. When a
// change to it lands (behind workflow.GetVersion), bump it so the files of
// the earlier logic stay and are still replayed.
const historyVersion = "v5"

func history(t *testing.T, env *testkit.Env, workflowID string) *historypb.History {
	h := &historypb.History{}
	iter := env.Temporal.GetWorkflowHistory(context.Background(), workflowID, "", false, 0)
	for iter.HasNext() {
		ev, err := iter.Next()
		require.NoError(t, err)
		h.Events = append(h.Events, ev)
	}
	return h
}

// TestAnImmediateChangesHistoryKeepsASummaryOfItsContract: an operator
// reading an amendment's history in the Temporal UI finds, of its contract,
// what the workflow uses (its id, its version after the change, currency and
// payment method), not its lines, which Postgres holds.
func TestAnImmediateChangesHistoryKeepsASummaryOfItsContract(t *testing.T) {
	env, ct, id := immediateSeatChange(t)

	var opened map[string]any
	for _, ev := range history(t, env, flow.AmendmentWorkflowID(id)).Events {
		marker := ev.GetMarkerRecordedEventAttributes()
		if marker == nil || marker.MarkerName != "LocalActivity" {
			continue
		}
		var step struct{ ActivityType string }
		require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(marker.Details["data"], &step))
		if step.ActivityType == "OpenAmendment" {
			require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(marker.Details["result"], &opened))
		}
	}
	require.NotNil(t, opened, "the history records OpenAmendment's result")
	assert.Equal(t, map[string]any{"id": ct["id"], "version": float64(2), "currency": ct["currency"], "paymentMethod": ct["paymentMethod"]},
		opened["Contract"])
	assert.Equal(t, "APPLIED", opened["Amendment"].(map[string]any)["status"])
}

// TestANewAmendmentRecordsNoVersionMarker: an amendment started by this
// code says it applies on open in its input, so its workflow asks no
// version. Its history has no version marker and no TemporalChangeVersion
// upsert: the one search attribute it upserts is its status, and an
// immediate change takes nine events.
func TestANewAmendmentRecordsNoVersionMarker(t *testing.T) {
	env, _, id := immediateSeatChange(t)

	var markers []string
	var upserted [][]string
	events := history(t, env, flow.AmendmentWorkflowID(id)).Events
	for _, ev := range events {
		if m := ev.GetMarkerRecordedEventAttributes(); m != nil {
			markers = append(markers, m.MarkerName)
		}
		if u := ev.GetUpsertWorkflowSearchAttributesEventAttributes(); u != nil {
			var names []string
			for name := range u.SearchAttributes.GetIndexedFields() {
				names = append(names, name)
			}
			upserted = append(upserted, names)
		}
	}
	assert.Equal(t, []string{"LocalActivity"}, markers)
	assert.Equal(t, [][]string{{flow.AmendmentStatusKey.GetName()}}, upserted)
	assert.Len(t, events, 9)
}

// immediateSeatChange applies a seat change to a new contract and returns
// the contract as created and the amendment's id.
func immediateSeatChange(t *testing.T) (*testkit.Env, map[string]any, string) {
	env := newAmendmentEnv(t)
	ct := fiveSeats(env, nil)
	resp := change(env, env.A.SubmitterKey, seats(ct["id"].(string), 7))
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	return env, ct, resp.JSON(t)["quote"].(map[string]any)["id"].(string)
}
