package workflows_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/temporalproto"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/contractd/contractd/internal/flow"
	"github.com/contractd/contractd/internal/testkit"
	"github.com/contractd/contractd/workflows"
)

// timelineHistories are the recorded histories of the timeline's workflow
// shape, and the steps each is kept for: "repriced" was held for review,
// re-priced when the change before it on its contract was withdrawn (a
// timeline-changed Update, then SyncAmendment), refused approval of its
// stale quote, approved through ApproveAmendment, then withdrawn;
// "withdrawn" is that earlier change, whose withdrawal re-priced it and
// told its workflow (NotifyTimeline).
var timelineHistories = map[string][]string{
	repricedHistory:  {flow.UpdateTimelineChanged, "SyncAmendment", "contract-timeline", "ApproveAmendment"},
	withdrawnHistory: {"TransitionAmendment", "contract-timeline", "NotifyTimeline"},
}

const (
	repricedHistory  = "testdata/amendment_timeline_repriced.v3.json"
	withdrawnHistory = "testdata/amendment_timeline_withdrawn.v3.json"
)

// TestTimelineHistoriesReplay replays timelineHistories against today's
// workflow code (TestRecordedHistoriesReplay replays them too, with every
// other recorded history) and checks that each holds the steps it is kept
// for. With RECORD_HISTORY=1 it first records them again against the real
// service (Postgres and the Temporal dev server, through internal/testkit).
func TestTimelineHistoriesReplay(t *testing.T) {
	replayHolding(t, timelineHistories, recordTimelineHistories)
}

// replayHolding replays each recorded history of histories against today's
// workflow code and checks that it holds the steps it is kept for; with
// RECORD_HISTORY=1, record records them again first.
func replayHolding(t *testing.T, histories map[string][]string, record func(*testing.T)) {
	t.Helper()
	if os.Getenv("RECORD_HISTORY") == "1" {
		record(t)
	}
	for file, want := range histories {
		raw, err := os.ReadFile(file)
		require.NoError(t, err)
		h := &historypb.History{}
		require.NoError(t, temporalproto.CustomJSONUnmarshalOptions{}.Unmarshal(raw, h))

		replayer := worker.NewWorkflowReplayer()
		workflows.RegisterReplayed(replayer)
		require.NoError(t, replayer.ReplayWorkflowHistory(nil, h), file)

		steps := map[string]bool{}
		for _, ev := range h.Events {
			steps[historyStep(t, ev)] = true
		}
		for _, step := range want {
			assert.True(t, steps[step], "%s holds %s; it has %v", file, step, steps)
		}
	}
}

// recordTimelineHistories plays the scenario through the API and writes the
// histories of its two amendments.
func recordTimelineHistories(t *testing.T) {
	env := testkit.New(t)
	env.Clock.Set(time.Date(2026, 3, 15, 10, 0, 0, 0, time.UTC))
	rule := map[string]any{"id": "big", "name": "Big seat increases", "when": `action == "QUANTITY_CHANGE" && quote.percentChange > 50.0`}
	require.Equal(t, http.StatusOK, env.Do("PUT", "/api/approval-rules", env.A.OperatorKey, map[string]any{"rules": []any{rule}}).Status)
	ct := env.CreateContract(map[string]any{"quantities": map[string]int{"prod_seat": 5}})["id"].(string)

	earlier := submit(t, env, seatsOn(ct, 6, "2026-06-01"), http.StatusOK, "SCHEDULED")
	later := submit(t, env, seatsOn(ct, 20, "2026-07-01"), http.StatusAccepted, "REVIEW")
	withdraw := env.Do("POST", "/api/amendments/"+earlier+"/withdraw", env.A.SubmitterKey, nil)
	require.Equal(t, http.StatusOK, withdraw.Status, "%s", withdraw.Body)
	workflowID := flow.AmendmentWorkflowID(later)
	told := func() bool {
		return wasTold(t, env.Temporal, workflowID) && amendmentQuoteVersion(t, env, later) == 2
	}
	require.Eventually(t, told, 30*time.Second, 200*time.Millisecond, "the held amendment's workflow is told of its new quote")

	stale := env.Do("POST", "/api/amendments/"+later+"/approve", env.A.ApproverKey, map[string]any{"quoteVersion": 1})
	require.Equal(t, http.StatusConflict, stale.Status, "%s", stale.Body)
	approved := env.Do("POST", "/api/amendments/"+later+"/approve", env.A.ApproverKey, map[string]any{"quoteVersion": 2, "comment": "ok"})
	require.Equal(t, http.StatusOK, approved.Status, "%s", approved.Body)
	assert.Equal(t, "SCHEDULED", approved.JSON(t)["status"])
	done := env.Do("POST", "/api/amendments/"+later+"/withdraw", env.A.SubmitterKey, nil)
	require.Equal(t, http.StatusOK, done.Status, "%s", done.Body)

	for file, id := range map[string]string{repricedHistory: later, withdrawnHistory: earlier} {
		writeHistory(t, env.Temporal, flow.AmendmentWorkflowID(id), file)
	}
}

// writeHistory waits for the workflow to end and writes its history to file.
func writeHistory(t *testing.T, c client.Client, workflowID, file string) {
	t.Helper()
	require.NoError(t, c.GetWorkflow(context.Background(), workflowID, "").Get(context.Background(), nil), workflowID)
	dumpHistory(t, c, workflowID, file)
}

// dumpHistory writes a workflow's history as it stands, ended or not.
func dumpHistory(t *testing.T, c client.Client, workflowID, file string) {
	t.Helper()
	h := &historypb.History{}
	iter := c.GetWorkflowHistory(context.Background(), workflowID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for iter.HasNext() {
		ev, err := iter.Next()
		require.NoError(t, err)
		h.Events = append(h.Events, ev)
	}
	raw, err := temporalproto.CustomJSONMarshalOptions{Indent: "  "}.Marshal(h)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.FromSlash(file), raw, 0o644))
}

func seatsOn(contractID string, n int, date string) map[string]any {
	return map[string]any{
		"action": "QUANTITY_CHANGE", "contractId": contractID, "effectiveDate": date,
		"payload": map[string]any{"offerings": []any{map[string]any{
			"offeringId": "off_team", "products": []any{map[string]any{"productId": "prod_seat", "quantity": n}},
		}}},
	}
}

// submit sends a self-service change and returns its amendment id.
func submit(t *testing.T, env *testkit.Env, body map[string]any, wantCode int, wantStatus string) string {
	t.Helper()
	resp := env.Do("POST", "/api/selfService/contract", env.A.SubmitterKey, body)
	require.Equal(t, wantCode, resp.Status, "%s", resp.Body)
	quote := resp.JSON(t)["quote"].(map[string]any)
	require.Equal(t, wantStatus, quote["status"], "%s", resp.Body)
	return quote["id"].(string)
}

func amendmentQuoteVersion(t *testing.T, env *testkit.Env, id string) float64 {
	resp := env.Do("GET", "/api/amendments/"+id, env.A.SubmitterKey, nil)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	v, _ := resp.JSON(t)["quoteVersion"].(float64)
	return v
}

// wasTold reports whether the workflow has been told its timeline changed
// and has read its amendment again since.
func wasTold(t *testing.T, c client.Client, workflowID string) bool {
	told := false
	iter := c.GetWorkflowHistory(context.Background(), workflowID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for iter.HasNext() {
		ev, err := iter.Next()
		require.NoError(t, err)
		step := historyStep(t, ev)
		told = told || step == flow.UpdateTimelineChanged
		if told && step == "SyncAmendment" {
			return true
		}
	}
	return false
}

// historyStep names what an event records: an accepted Update's name, an
// activity's or a local activity's type, a version's change id, "timer" for
// a timer started; "" for other events.
func historyStep(t *testing.T, ev *historypb.HistoryEvent) string {
	if u := ev.GetWorkflowExecutionUpdateAcceptedEventAttributes(); u != nil {
		return u.GetAcceptedRequest().GetInput().GetName()
	}
	if a := ev.GetActivityTaskScheduledEventAttributes(); a != nil {
		return a.GetActivityType().GetName()
	}
	if ev.GetTimerStartedEventAttributes() != nil {
		return "timer"
	}
	m := ev.GetMarkerRecordedEventAttributes()
	if m == nil {
		return ""
	}
	first := func(key string) []byte {
		if p := m.GetDetails()[key].GetPayloads(); len(p) > 0 {
			return p[0].GetData()
		}
		return nil
	}
	if id := first("change-id"); id != nil {
		var change string
		require.NoError(t, json.Unmarshal(id, &change))
		return change
	}
	var la struct{ ActivityType string }
	if data := first("data"); data != nil {
		require.NoError(t, json.Unmarshal(data, &la))
	}
	return la.ActivityType
}
