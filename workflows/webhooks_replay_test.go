package workflows_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/flow"
	"github.com/contractd/contractd/internal/store"
	"github.com/contractd/contractd/internal/testkit"
)

// webhookHistories are the recorded histories of webhook delivery, and the
// steps each is kept for. The v0 files were recorded before lanes (with that
// commit's workflows), with the per-contract delivery workflows: a
// dispatcher waking a contract's queue, and that queue's workflow delivering
// its event; running ones must finish. The v1 files are lanes: a
// dispatcher waking a lane (the webhook-lanes version), and the lane
// delivering its event, which failed first, after a timer until its retry.
var webhookHistories = map[string][]string{
	legacyDispatchHistory: {"ResumeWebhookDispatch", "PollWebhookEvents", "WakeWebhookQueues"},
	legacyDeliveryHistory: {"NextWebhookDelivery", "DeliverWebhook"},
	dispatchHistory:       {"webhook-lanes", "ResumeWebhookLanes", "PollWebhookEvents", "WakeWebhookLanes"},
	laneHistory:           {"DeliverWebhooks", "timer"},
}

const (
	legacyDispatchHistory = "testdata/webhook_dispatch.v0.json"
	legacyDeliveryHistory = "testdata/webhook_delivery.v0.json"
	dispatchHistory       = "testdata/webhook_dispatch_lanes.v1.json"
	laneHistory           = "testdata/webhook_lane.v1.json"
)

// TestWebhookHistoriesReplay replays webhookHistories against today's
// workflow code and checks each holds the steps it is kept for. With
// RECORD_HISTORY=1 it first records today's logic again.
func TestWebhookHistoriesReplay(t *testing.T) {
	replayHolding(t, webhookHistories, recordWebhookHistories)
}

// recordWebhookHistories subscribes a receiver, which refuses its first
// request, creates a contract and, once its event arrived, writes the lane's
// history and the dispatcher's (stopped first: it runs for good).
func recordWebhookHistories(t *testing.T) {
	env := testkit.New(t)
	var received atomic.Int32
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if received.Add(1) == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	t.Cleanup(rcv.Close)
	resp := env.Do("POST", "/api/webhooks", env.A.OperatorKey, map[string]any{"url": rcv.URL, "events": []string{store.EventContractCreated}})
	require.Equal(t, http.StatusCreated, resp.Status, "%s", resp.Body)
	hook := resp.JSON(t)["id"].(string)
	contract := env.CreateContract(nil)["id"].(string)
	require.Eventually(t, func() bool { return received.Load() == 2 }, 30*time.Second, 50*time.Millisecond)

	writeHistory(t, env.Temporal, flow.WebhookLaneWorkflowID(flow.WebhookLane{TenantID: env.A.ID, SubscriptionID: hook, Lane: flow.WebhookLaneOf(contract)}), laneHistory)
	dispatch := flow.WebhookDispatchWorkflowID(env.A.ID)
	require.NoError(t, env.Temporal.TerminateWorkflow(context.Background(), dispatch, "", "recorded"))
	dumpHistory(t, env.Temporal, dispatch, dispatchHistory)
}
